// Keyboard flow of the review pages: Enter saves a changed value and moves on, Shift+Enter keeps a flagged reading
// as it is (on purpose: plain Enter on an unchanged reading only says so), Tab moves, Ctrl+Enter approves.
(function () {
  "use strict";
  var root = document.getElementById("review");
  if (!root) return;
  var csrf = root.dataset.csrf;
  var approveBtn = document.getElementById("approve-btn");
  var rows = Array.prototype.slice.call(root.querySelectorAll(".field-row"));
  var timers = {};

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) { data._http = r.status; return data; });
    });
  }
  function input(row) { return row.querySelector("input.value"); }
  function open(row) { return !row.classList.contains("done"); }
  function showMessages(row, findings, extra) {
    var box = row.querySelector(".msg");
    box.textContent = "";
    (findings || []).forEach(function (f) {
      var s = document.createElement("span");
      s.className = f.severity; s.textContent = f.message; box.appendChild(s);
    });
    if (extra) {
      var e = document.createElement("span"); e.className = "note"; e.textContent = extra; box.appendChild(e);
    }
  }
  function highlight(row) {
    rows.forEach(function (r) { r.classList.toggle("current", r === row); });
    document.querySelectorAll("svg rect.current").forEach(function (b) { b.classList.remove("current"); });
    var box = document.getElementById("box" + row.dataset.field);
    if (box) box.classList.add("current");
  }
  function focusRow(row) {
    var el = input(row);
    el.focus(); el.select();
    highlight(row);
    row.scrollIntoView({block: "nearest"});
  }
  function focusApprove() {
    if (approveBtn) { approveBtn.disabled = false; approveBtn.removeAttribute("disabled"); approveBtn.focus(); }
  }
  function move(row, step) {
    var i = rows.indexOf(row);
    for (var k = 1; k <= rows.length; k++) {
      var cand = rows[(i + step * k + rows.length * k) % rows.length];
      if (open(cand) && cand !== row) { focusRow(cand); return; }
    }
    if (open(row)) focusRow(row); else focusApprove();
  }
  function nextOpen(row) {
    var i = rows.indexOf(row);
    for (var k = i + 1; k < rows.length; k++) if (open(rows[k])) return rows[k];
    for (k = 0; k < i; k++) if (open(rows[k])) return rows[k];
    return null;
  }
  function setState(row, text) { row.querySelector(".state").textContent = text; }

  function save(row, accept) {
    var el = input(row);
    var body = {value: el.value, accept: !!accept};
    if (row.dataset.first !== undefined) { body.first = row.dataset.first; body.first_token = row.dataset.firstToken; }
    el.readOnly = true;
    post(row.dataset.url, body).then(function (res) {
      el.readOnly = false;
      if (res._http !== 200) { showMessages(row, [], res.detail || "保存できませんでした"); focusRow(row); return; }
      if (res.status === "second_entry") {
        row.dataset.first = el.value; row.dataset.firstToken = res.first_token; el.value = "";
        showMessages(row, [], res.message); setState(row, "2回目の入力"); focusRow(row); return;
      }
      if (res.status === "retry") {
        delete row.dataset.first; delete row.dataset.firstToken; el.value = "";
        showMessages(row, [], res.message); setState(row, "1回目の入力"); focusRow(row); return;
      }
      delete row.dataset.first; delete row.dataset.firstToken;
      var open_ = 0;
      rows.forEach(function (r) {
        var f = res.fields[r.dataset.field];
        if (!f) return;
        if (f.status === "needs_review") { r.classList.remove("done"); open_++; }
        else { r.classList.add("done"); setState(r, f.status === "corrected" ? "修正済" : "確認済"); }
        if (r !== row || res.status !== "invalid") showMessages(r, f.findings);
      });
      if (res.status === "invalid" || res.status === "confirm") { showMessages(row, [], res.message); focusRow(row); return; }
      if (res.stay) { showMessages(row, res.fields[row.dataset.field].findings, res.message); focusRow(row); return; }
      if (res.remaining > open_ && approveBtn && approveBtn.tagName === "BUTTON") { location.reload(); return; }
      var nxt = nextOpen(row);
      if (nxt) focusRow(nxt); else focusApprove();
    }, function () {
      el.readOnly = false; showMessages(row, [], "通信できませんでした。もう一度Enterを押してください"); focusRow(row);
    });
  }

  function check(row) {
    if (row.dataset.double) return;  // blind entry: no hint about the reading
    post(row.dataset.url + "/check", {value: input(row).value}).then(function (res) {
      if (res._http === 200) showMessages(row, res.findings);
    });
  }

  rows.forEach(function (row) {
    var el = input(row);
    el.addEventListener("focus", function () { highlight(row); });
    el.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        if (approveBtn && !approveBtn.disabled && approveBtn.form) approveBtn.form.submit();
      } else if (e.key === "Enter" && e.shiftKey && !e.isComposing) {
        e.preventDefault(); save(row, true);
      } else if (e.key === "Enter" && !e.isComposing) {
        e.preventDefault();
        if (row.dataset.read !== undefined && el.value === row.dataset.read) {
          row.classList.add("confirm");  // the reading unchanged: accepting it takes Shift+Enter
          showMessages(row, [], "読み取りどおりでよければ Shift+Enter で確定してください（直すときは値を入力して Enter）");
          return;
        }
        save(row);
      } else if (e.key === "Tab") {
        e.preventDefault(); move(row, e.shiftKey ? -1 : 1);
      } else if (e.altKey && /^[1-9]$/.test(e.key)) {
        var alt = row.querySelectorAll(".alt")[Number(e.key) - 1];
        if (alt) { e.preventDefault(); el.value = alt.dataset.value; check(row); }
      }
    });
    el.addEventListener("input", function () {
      clearTimeout(timers[row.dataset.field]);
      timers[row.dataset.field] = setTimeout(function () { check(row); }, 350);
    });
    row.querySelectorAll(".alt").forEach(function (b) {
      b.addEventListener("click", function () { el.value = b.dataset.value; focusRow(row); check(row); });
    });
  });

  root.querySelectorAll("button.unmask").forEach(function (b) {
    b.addEventListener("click", function () {
      post("/review/fields/" + b.dataset.field + "/unmask", {}).then(function (res) {
        if (res._http === 200) { document.getElementById("t" + b.dataset.field).textContent = res.value; b.remove(); }
      });
    });
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && approveBtn && !approveBtn.disabled && approveBtn.form) {
      e.preventDefault(); approveBtn.form.submit();
    }
  });

  var first = rows.filter(open)[0];
  if (first) focusRow(first); else if (approveBtn && !approveBtn.disabled) approveBtn.focus();
})();
