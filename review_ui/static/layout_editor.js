// The template editor: every field's box on the scan; drag to move, the corner to resize; each change re-read by
// the server's OCR engine; saved as the layout's next version. Boxes are millimetres on the page, as in the YAML.
(function () {
  "use strict";
  var root = document.getElementById("layout-editor");
  if (!root) return;
  var data = JSON.parse(document.getElementById("layout-data").textContent);
  var csrf = root.dataset.csrf;
  var pageEl = document.getElementById("layout-page");
  var tbody = document.querySelector("#layout-fields tbody");
  var problemsEl = document.getElementById("layout-problems");
  var W = data.page_mm[0], H = data.page_mm[1];
  var fields = data.fields.map(function (f) { return {key: f.key, type: f.type, box: f.box.slice(), original: f.key}; });
  var selected = null;

  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf}});
  }
  function r1(v) { return Math.round(v * 10) / 10; }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function label(key) { return data.contract[key] ? data.contract[key].label : key; }

  function place(f) {
    var b = f.box, s = f.boxEl.style;
    s.left = (b[0] / W * 100) + "%"; s.top = (b[1] / H * 100) + "%";
    s.width = (b[2] / W * 100) + "%"; s.height = (b[3] / H * 100) + "%";
    f.boxText.textContent = "[" + b.map(r1).join(", ") + "]";
    f.tag.textContent = f.key;
  }
  function select(f) {
    fields.forEach(function (g) { g.boxEl.classList.toggle("selected", g === f); g.row.classList.toggle("selected", g === f); });
    selected = f;
  }

  function build(f) {
    f.boxEl = el("div", {"class": "lbox", "data-key": f.key, "title": label(f.key)});
    f.tag = el("span", {"class": "ltag"});
    f.grip = el("span", {"class": "lgrip", "aria-hidden": "true"});
    f.boxEl.appendChild(f.tag); f.boxEl.appendChild(f.grip);
    pageEl.appendChild(f.boxEl);
    f.row = el("tr", {"data-key": f.key});
    var keySel = el("select", {"class": "fkey", "aria-label": "項目"});
    Object.keys(data.contract).forEach(function (k) {
      var o = el("option", {value: k}, label(k) + "（" + k + "）");
      if (k === f.key) o.selected = true;
      keySel.appendChild(o);
    });
    var typeSel = el("select", {"class": "ftype", "aria-label": "型"});
    data.types.forEach(function (t) { var o = el("option", {value: t}, t); if (t === f.type) o.selected = true; typeSel.appendChild(o); });
    f.boxText = el("code", {"class": "fbox"});
    f.valueEl = el("output", {"class": "fvalue"}, "…");
    var del = el("button", {type: "button", "class": "fdel"}, "削除");
    [keySel, typeSel, f.boxText, f.valueEl, del].forEach(function (c) { var td = el("td"); td.appendChild(c); f.row.appendChild(td); });
    tbody.appendChild(f.row);
    keySel.addEventListener("change", function () {
      f.key = keySel.value; f.type = data.contract[f.key].type; typeSel.value = f.type;
      f.boxEl.dataset.key = f.row.dataset.key = f.key; f.boxEl.title = label(f.key); place(f); reread([f]);
    });
    typeSel.addEventListener("change", function () { f.type = typeSel.value; reread([f]); });
    del.addEventListener("click", function () {
      fields.splice(fields.indexOf(f), 1); f.boxEl.remove(); f.row.remove();
    });
    f.row.addEventListener("click", function () { select(f); });
    f.boxEl.addEventListener("pointerdown", function (ev) { drag(ev, f, ev.target === f.grip); });
    place(f);
  }

  // Drag: move the box, or from its corner resize it; on release the value is read again.
  function drag(ev, f, resize) {
    ev.preventDefault();
    select(f);
    var rect = pageEl.getBoundingClientRect(), mmX = W / rect.width, mmY = H / rect.height;
    var x0 = ev.clientX, y0 = ev.clientY, start = f.box.slice();
    f.boxEl.setPointerCapture(ev.pointerId);
    function move(e) {
      var dx = (e.clientX - x0) * mmX, dy = (e.clientY - y0) * mmY, b = start.slice();
      if (resize) { b[2] = Math.max(2, start[2] + dx); b[3] = Math.max(2, start[3] + dy); }
      else { b[0] = Math.min(Math.max(0, start[0] + dx), W - b[2]); b[1] = Math.min(Math.max(0, start[1] + dy), H - b[3]); }
      f.box = b.map(r1); place(f);
    }
    function up(e) {
      f.boxEl.removeEventListener("pointermove", move); f.boxEl.removeEventListener("pointerup", up);
      move(e);
      if (f.box.join() !== start.join()) reread([f]);
    }
    f.boxEl.addEventListener("pointermove", move); f.boxEl.addEventListener("pointerup", up);
  }

  function payload(f) { return {key: f.key, type: f.type, box: f.box, original: f.original}; }
  function reread(list) {
    list.forEach(function (f) { f.valueEl.textContent = "読取中…"; f.valueEl.classList.remove("done"); });
    return post(data.reread_url, {version: data.version, fields: list.map(payload)}).then(function (r) { return r.json(); })
      .then(function (res) {
        list.forEach(function (f) {
          var v = (res.values || {})[f.key] || {text: "", problem: "読めません"};
          f.valueEl.textContent = v.problem ? (v.text ? v.text + "（" + v.problem + "）" : v.problem) : (v.text || "（空欄）");
          f.valueEl.dataset.value = v.text || "";
          f.valueEl.classList.add("done");
        });
      });
  }

  document.getElementById("add-field").addEventListener("click", function () {
    var used = fields.map(function (f) { return f.key; });
    var key = Object.keys(data.contract).filter(function (k) { return used.indexOf(k) < 0; })[0];
    if (!key) return;
    var f = {key: key, type: data.contract[key].type, box: [r1(W / 2 - 20), r1(H / 2 - 5), 40, 10], original: null};
    fields.push(f); build(f); select(f); reread([f]);
  });
  document.getElementById("save-layout").addEventListener("click", function () {
    problemsEl.textContent = "";
    post(data.save_url, {version: data.version, fields: fields.map(payload),
                         comment: document.getElementById("layout-comment").value})
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        if (res[0] === 200) { window.location.assign(res[1].url); return; }
        (res[1].problems || [res[1].detail || "保存できません"]).forEach(function (p) {
          problemsEl.appendChild(el("li", {"class": "error"}, p));
        });
      });
  });

  fields.forEach(build);
  if (fields.length) reread(fields);
})();
