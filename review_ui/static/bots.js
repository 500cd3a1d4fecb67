// The bots' administrator pages: jump to a scenario problem's line; poll a test run and show its steps.
"use strict";
(() => {
  const yaml = document.getElementById("yaml");
  document.querySelectorAll(".goto-line").forEach((b) => b.addEventListener("click", () => {
    const lines = yaml.value.split("\n");
    const n = Math.min(Number(b.dataset.line), lines.length) - 1;
    const start = lines.slice(0, n).reduce((a, l) => a + l.length + 1, 0);
    yaml.focus();
    yaml.setSelectionRange(start, start + lines[n].length);
    yaml.scrollTop = Math.max(0, n - 5) * parseFloat(getComputedStyle(yaml).lineHeight);
  }));

  const box = document.getElementById("testrun");
  if (!box) return;
  const KIND = {keyed: "入力・照合済み", skipped: "登録済みのためスキップ", sent_back: "審査に差し戻し",
                failed: "失敗", dry_run: "保存の直前まで実行（何も登録していません）"};
  const SECTION = {lookup: "検索", key_in: "入力", verify: "照合", failed: "失敗"};
  const state = document.getElementById("test-state"), outcome = document.getElementById("test-outcome");
  const steps = document.getElementById("test-steps");
  let shown = 0;
  async function poll() {
    const r = await fetch(box.dataset.status, {headers: {Accept: "application/json"}});
    if (!r.ok) { state.textContent = "状態を読めません（" + r.status + "）"; return; }
    const s = await r.json();
    for (; shown < s.steps.length; shown++) {
      const step = s.steps[shown], li = document.createElement("li");
      const tag = document.createElement("span");
      tag.className = "section"; tag.textContent = SECTION[step.section] || step.section;
      li.append(tag, document.createTextNode(step.where));
      if (step.image) {
        const img = document.createElement("img");
        img.src = step.image; img.alt = "手順 " + (shown + 1) + " の後の画面"; img.loading = "lazy";
        li.append(img);
      }
      steps.append(li);
    }
    if (s.state === "running") { setTimeout(poll, 1000); return; }
    state.textContent = s.state === "done" ? "終了しました" : "実行できませんでした";
    state.className = s.state === "done" ? "ok" : "error";
    outcome.id = "test-outcome";
    outcome.textContent = s.outcome ? (KIND[s.outcome.kind] || s.outcome.kind) + ": " + s.outcome.message : s.message;
    outcome.dataset.kind = s.outcome ? s.outcome.kind : s.state;
  }
  poll();
})();
