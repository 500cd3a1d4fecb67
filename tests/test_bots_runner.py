"""The keying runner against the real demo tax system in headless Chromium: exactly once, read back, sent back."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from yomitori.bots.bench import SCENARIO, verify_target, write_records
from yomitori.bots.demo_target import DemoTarget
from yomitori.bots.outcomes import Outcome, OutcomeKind
from yomitori.bots.receipts import SQLiteReceiptLog, State
from yomitori.bots.runner import CHROMIUM, RunOptions, run_scenario
from yomitori.bots.scenario import load_scenario
from yomitori.bots.sources import SourceRecord
from yomitori.synth.data import make_company, make_record

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
FORM = "kyuyo_shiharai_hokokusho"


def _records(n: int, seed: int, *, dependents: bool = False) -> list[SourceRecord]:
    rng = random.Random(seed)
    payer = make_company(rng)
    out: list[SourceRecord] = []
    while len(out) < n:
        v = make_record(FORM, rng, payer=payer)
        if str(v["payment_amount"]).endswith("13"):
            continue  # those are the fault-injection ones
        if dependents and not out and not (v["dependent_1_name"] or v["under16_1_name"]):
            continue  # the first one exercises the repeat over dependents
        out.append(SourceRecord(f"rec-{seed}-{len(out) + 1}", FORM, v))
    return out


def _run(records: list[SourceRecord], journal: Path, tmp_path: Path, scenario: Path = SCENARIO,
         **options: object) -> tuple[list[Outcome], object]:
    outcomes: list[Outcome] = []
    log = SQLiteReceiptLog(journal)
    try:
        summary = run_scenario(load_scenario(scenario), records, log, outcomes.append,
                               RunOptions(artifacts=tmp_path / "artifacts", **options))  # type: ignore[arg-type]
    finally:
        log.close()
    return outcomes, summary


def _as_jsonl(records: list[SourceRecord]) -> list[dict[str, object]]:
    return [{"id": r.record_id, "form": r.form, "fields": {k: {"value": v} for k, v in r.values.items()}}
            for r in records]


def test_keys_reads_back_and_never_keys_twice(target: DemoTarget, tmp_path: Path) -> None:
    records = _records(3, 11, dependents=True)
    journal = tmp_path / "journal.sqlite"
    outcomes, _ = _run(records, journal, tmp_path)
    assert [o.kind for o in outcomes] == [OutcomeKind.keyed] * 3, [o.message for o in outcomes]
    check = verify_target(target.export(), _as_jsonl(records))
    assert check == {"target_rows": 3, "duplicates": 0, "missing": 0, "mismatched_records": 0,
                     "mismatched_fields": 0}
    log = SQLiteReceiptLog(journal)
    assert [s for s, _ in log.history(outcomes[0].key)] == ["started", "sent", "saved", "verified"]
    log.close()

    # The same records again: the journal knows them, nothing is looked up or typed.
    again, summary = _run(records, journal, tmp_path)
    assert again == [] and summary.counts["already_done"] == 3  # type: ignore[attr-defined]
    # A fresh journal (another machine, a lost file): the lookup in the target finds them and skips.
    fresh, _ = _run(records, tmp_path / "other-journal.sqlite", tmp_path)
    assert [o.kind for o in fresh] == [OutcomeKind.skipped] * 3
    assert len(target.export()["records"]) == 3


def test_business_rule_message_sends_back_and_run_goes_on(target: DemoTarget, tmp_path: Path) -> None:
    bad, good = _records(2, 12)
    amount = int(bad.values["payment_amount"]) // 100 * 100 + 13  # the demo system refuses amounts ending in 13
    bad = SourceRecord(bad.record_id, FORM, {**bad.values, "payment_amount": amount})
    outcomes, _ = _run([bad, good], tmp_path / "j.sqlite", tmp_path)
    assert [o.kind for o in outcomes] == [OutcomeKind.sent_back, OutcomeKind.keyed]
    assert "E2013 支払金額が前年度の異動届出の金額と一致しません" in outcomes[0].message
    rows = target.export()["records"]
    assert [r["name"] for r in rows] == [good.values["recipient_name"]]
    # Unchanged, a sent-back record is not tried again; corrected by review, it is.
    again, _ = _run([bad], tmp_path / "j.sqlite", tmp_path)
    assert again == []
    fixed = SourceRecord(bad.record_id, FORM, {**bad.values, "payment_amount": int(bad.values["payment_amount"]) + 1})
    again, _ = _run([fixed], tmp_path / "j.sqlite", tmp_path)
    assert [o.kind for o in again] == [OutcomeKind.keyed]


def test_wrong_selector_fails_naming_step_and_selector(target: DemoTarget, tmp_path: Path) -> None:
    text = SCENARIO.read_text(encoding="utf-8")
    broken = (text.replace("{label: 源泉徴収税額, field: withholding_tax", "{label: 源泉徴収額, field: withholding_tax")
              .replace("timeouts: {step: 10s", "timeouts: {step: 2s"))
    scenario = tmp_path / "broken.yaml"
    scenario.write_text(broken, encoding="utf-8")
    line = next(n for n, s in enumerate(broken.splitlines(), 1) if "源泉徴収額" in s)
    records = _records(1, 13)
    outcomes, _ = _run(records, tmp_path / "j.sqlite", tmp_path, scenario)
    (o,) = outcomes
    assert o.kind == OutcomeKind.failed
    assert f"key_in step 'fill' [label='源泉徴収額'] at broken.yaml:{line}" in o.message
    assert "nothing was saved" in o.message
    assert o.screenshot is not None and o.screenshot.stat().st_size > 1000
    assert o.trace is not None and o.trace.stat().st_size > 1000
    assert records[0].values["recipient_my_number"] not in o.message
    log = SQLiteReceiptLog(tmp_path / "j.sqlite")
    assert log.get(o.key).state == State.failed  # type: ignore[union-attr]
    log.close()
    assert target.export()["records"] == []
    # Fixed scenario, same journal: the flagged record is looked up, then keyed once.
    outcomes, _ = _run(records, tmp_path / "j.sqlite", tmp_path)
    assert [x.kind for x in outcomes] == [OutcomeKind.keyed]


def test_read_back_mismatch_sends_back_with_field(target: DemoTarget, tmp_path: Path) -> None:
    # A scenario that types the 源泉徴収税額 in thousands: the target accepts it, the read-back catches it.
    text = SCENARIO.read_text(encoding="utf-8").replace(
        "{label: 源泉徴収税額, field: withholding_tax, transform: digits}",
        '{label: 源泉徴収税額, field: withholding_tax, transform: "unit:1000"}')
    scenario = tmp_path / "thousands.yaml"
    scenario.write_text(text, encoding="utf-8")
    rec = _records(1, 14)[0]
    if not rec.values["withholding_tax"]:
        rec = SourceRecord(rec.record_id, FORM, {**rec.values, "withholding_tax": 123400})
    (o,), _ = _run([rec], tmp_path / "j.sqlite", tmp_path, scenario)
    assert o.kind == OutcomeKind.sent_back
    assert o.message.startswith("読み戻し不一致: 源泉徴収税額（withholding_tax）")


def test_dry_run_saves_nothing(target: DemoTarget, tmp_path: Path) -> None:
    records = _records(1, 15)
    outcomes, _ = _run(records, tmp_path / "j.sqlite", tmp_path, dry_run=True)
    assert [o.kind for o in outcomes] == [OutcomeKind.dry_run]
    assert "stopped before a step that writes (lookup at" in outcomes[0].message  # the employer is new
    assert target.export() == {"employers": [], "records": []}
    _run(records, tmp_path / "j.sqlite", tmp_path)  # registers the employer, keys the record
    second = SourceRecord("rec-15-2", FORM, {**records[0].values, "recipient_my_number": "123456789018"})
    outcomes, _ = _run([second], tmp_path / "j.sqlite", tmp_path, dry_run=True)
    assert [o.message for o in outcomes] == ["walked the scenario up to the save"]
    assert len(target.export()["records"]) == 1


def test_ended_sessions_are_resumed_without_double_keying(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = _records(2, 17)
    outcomes: list[Outcome] = []

    def slow_source() -> Iterator[SourceRecord]:
        yield records[0]
        while not outcomes:
            time.sleep(0.05)
        time.sleep(2.5)  # a pause longer than the target's idle timeout: the session ends under the bot
        yield records[1]

    with DemoTarget(tmp_path / "target.db", idle_timeout=2) as t:
        for k, v in t.env().items():
            monkeypatch.setenv(k, v)
        log = SQLiteReceiptLog(tmp_path / "j.sqlite")
        summary = run_scenario(load_scenario(SCENARIO), slow_source(), log, outcomes.append,
                               RunOptions(artifacts=tmp_path / "artifacts"))
        log.close()
        assert [o.kind for o in outcomes] == [OutcomeKind.keyed] * 2, [o.message for o in outcomes]
        assert summary.logins >= 2
        assert verify_target(t.export(), _as_jsonl(records))["duplicates"] == 0
        assert len(t.export()["records"]) == 2


def _verified(journal: Path) -> int:
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as c:
            return c.execute("select count(*) from receipts where state = 'verified'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_mid_run_then_resume_keys_each_record_once(target: DemoTarget, tmp_path: Path) -> None:
    records_file = tmp_path / "records.jsonl"
    approved = write_records(records_file, 6, seed=16)
    journal = tmp_path / "journal.sqlite"
    cmd = [sys.executable, "-m", "yomitori", "bot", "run", str(SCENARIO), "--records", str(records_file),
           "--journal", str(journal), "--parallel", "2", "--artifacts", str(tmp_path / "artifacts")]
    env = {**os.environ, **target.env()}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while _verified(journal) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and the browser it started
    proc.wait()
    states = Counter(r.state for r in SQLiteReceiptLog(journal).all())
    assert 2 <= states[State.verified] < 6
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert verify_target(target.export(), approved)["duplicates"] == 0
    check = verify_target(target.export(), approved)
    assert check["target_rows"] == 6 and check["missing"] == 0 and check["mismatched_records"] == 0
    assert Counter(r.state for r in SQLiteReceiptLog(journal).all()) == {State.verified: 6}
