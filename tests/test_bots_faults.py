"""Faults and exactly-once for the keying bots against the real demo tax system (issue 20, items 9, 10 and 12):
a save that answers late, two runs on one journal, a SIGKILL between the journal and the outcomes file."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_bots_runner import _as_jsonl, _records, _run

from yomitori.bots.bench import SCENARIO, verify_target, write_records
from yomitori.bots.demo_target import DemoTarget
from yomitori.bots.lease import LeaseHeld, StoreLease
from yomitori.bots.outcomes import OutcomeKind
from yomitori.bots.outcomes_file import KILL_BEFORE_OUTCOME
from yomitori.bots.receipts import SQLiteReceiptLog, State
from yomitori.bots.runner import CHROMIUM, MAY_HAVE_BEEN_SAVED
from yomitori.settings import Settings
from yomitori.store.models import BotLease, BotRun, KeyingReceipt
from yomitori.store.repo import Store

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


def _impatient(tmp_path: Path, *, navigation: str, pause: str, lookups: int) -> Path:
    """The demo scenario with a short save timeout and short waits for a save that did not answer."""
    text = SCENARIO.read_text(encoding="utf-8")
    text = text.replace("timeouts: {step: 10s, navigation: 30s}",
                        f"timeouts: {{step: 10s, navigation: {navigation}, unknown_save: {pause}}}")
    text = text.replace("retry: {attempts: 4, backoff: [1s, 3s, 8s]}",
                        f"retry: {{attempts: 4, backoff: [1s, 3s, 8s], unknown_save_lookups: {lookups}}}")
    text = text.replace("commit: true\n    timeout: 30s", f"commit: true\n    timeout: {navigation}")
    assert text.count(navigation) >= 2 and "unknown_save_lookups" in text
    path = tmp_path / "impatient.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw: object) -> DemoTarget:
    t = DemoTarget(tmp_path / "target.db", **kw)  # type: ignore[arg-type]
    for k, v in t.env().items():
        monkeypatch.setenv(k, v)
    return t


def test_slow_save_is_looked_up_not_keyed_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Item 9: the first save answers after 6 s; the bot gives up waiting after 3 s. Before the fix it logged in,
    # found nothing yet and keyed the record again: 6 rows for 5 records, all "keyed".
    records = _records(5, 21)
    scenario = _impatient(tmp_path, navigation="3s", pause="2s", lookups=5)
    journal = tmp_path / "journal.sqlite"
    with _target(tmp_path, monkeypatch, slow_saves=1, slow_save_seconds=6) as t:
        outcomes, _ = _run(records, journal, tmp_path, scenario)
        rows = t.export()["records"]
        assert len(rows) == 5, f"{len(rows)} rows in the target for 5 records"
        assert verify_target(t.export(), _as_jsonl(records))["duplicates"] == 0
    assert [o.kind for o in outcomes] == [OutcomeKind.keyed] * 5, [o.message for o in outcomes]
    late = [o for o in outcomes if "answered late" in o.message]
    assert len(late) == 1, [o.message for o in outcomes]
    log = SQLiteReceiptLog(journal)
    history = [s for s, _ in log.history(late[0].key)]
    log.close()
    assert history.count("started") == 1 and history[:2] == ["started", "sent"], history
    assert history[-2:] == ["saved", "verified"]


def test_save_still_unknown_goes_to_a_person_and_is_never_keyed_again(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # The save answers after 14 s, the bot looks twice within ~5 s: it cannot know, so it says so.
    records = _records(1, 22)
    scenario = _impatient(tmp_path, navigation="2s", pause="1s", lookups=2)
    journal = tmp_path / "journal.sqlite"
    with _target(tmp_path, monkeypatch, slow_saves=1, slow_save_seconds=14) as t:
        started = time.monotonic()
        (o,), summary = _run(records, journal, tmp_path, scenario)
        assert time.monotonic() - started < 14, "the run finished after the save landed: the test proves nothing"
        assert o.kind == OutcomeKind.failed and o.message.startswith(MAY_HAVE_BEEN_SAVED), o.message
        assert "yomitori bot release" in o.message
        assert records[0].values["recipient_my_number"] not in o.message
        assert summary.counts["unconfirmed"] == 1 and summary.counts["failed"] == 1  # type: ignore[attr-defined]
        log = SQLiteReceiptLog(journal)
        assert log.get(o.key).state == State.unconfirmed  # type: ignore[union-attr]
        log.close()
        # A resume at once: the record is looked up again, never keyed (whether the save has landed yet or not).
        again, _ = _run(records, journal, tmp_path, scenario)
        assert len(t.export()["records"]) <= 1
        deadline = time.monotonic() + 30
        while not t.export()["records"] and time.monotonic() < deadline:
            time.sleep(0.2)
        if again[0].kind != OutcomeKind.keyed:
            assert again[0].message.startswith(MAY_HAVE_BEEN_SAVED)
            again, _ = _run(records, journal, tmp_path, scenario)  # the save has landed: found and read back
        assert [x.kind for x in again] == [OutcomeKind.keyed], again[0].message
        assert len(t.export()["records"]) == 1
        log = SQLiteReceiptLog(journal)
        assert Counter(s for s, _ in log.history(o.key))["started"] == 1
        log.close()


def test_release_after_a_person_checked_lets_the_next_run_key_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from yomitori.bots.cli import app

    journal = tmp_path / "journal.sqlite"
    log = SQLiteReceiptLog(journal)
    log.mark("k1", "rec-1", State.unconfirmed, values_digest="d", message=MAY_HAVE_BEEN_SAVED)
    log.mark("k2", "rec-2", State.verified, values_digest="d")
    log.close()
    refused = CliRunner().invoke(app, ["release", "rec-2", "--journal", str(journal)])
    assert refused.exit_code != 0 and "nothing to release" in " ".join(refused.output.split())
    done = CliRunner().invoke(app, ["release", "rec-1", "--journal", str(journal), "--by", "suzuki"])
    assert done.exit_code == 0, done.output
    log = SQLiteReceiptLog(journal)
    assert log.get("k1").state == State.failed and "released by suzuki" in log.get("k1").message  # type: ignore[union-attr]
    log.close()


def _cli(records_file: Path, journal: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "yomitori", "bot", "run", str(SCENARIO), "--records", str(records_file),
            "--journal", str(journal), "--artifacts", str(tmp_path / "artifacts"), *extra]


def test_two_runs_on_one_journal_key_each_record_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Item 10: a resume started while the first run lives. Before the lease, both keyed every record.
    records_file, journal = tmp_path / "records.jsonl", tmp_path / "journal.sqlite"
    approved = write_records(records_file, 5, seed=23)
    with _target(tmp_path, monkeypatch) as t:
        env = {**os.environ, **t.env()}
        first = subprocess.Popen(_cli(records_file, journal, tmp_path), env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        lock = journal.with_name(journal.name + ".lock")
        deadline = time.monotonic() + 60
        while not (lock.exists() and f'"pid": {first.pid}' in lock.read_text()) and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()[1][-2000:]
            time.sleep(0.05)
        refused = subprocess.run(_cli(records_file, journal, tmp_path), env=env, capture_output=True, text=True,
                                 timeout=120, check=False)
        waiting = subprocess.Popen(_cli(records_file, journal, tmp_path, "--wait-for-lease", "300"), env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert first.poll() is None, "the first run ended before the second started: the test proves nothing"
        _, first_err = first.communicate(timeout=300)
        _, waited_err = waiting.communicate(timeout=300)
        check = verify_target(t.export(), approved)
    assert first.returncode == 0, first_err[-2000:]
    message = " ".join(refused.stderr.split())
    assert refused.returncode == 1 and "another bot run is using the journal" in message, message
    assert f"pid {first.pid}" in message and "--wait-for-lease" in message
    assert waiting.returncode == 0, waited_err[-2000:]
    assert "keyed 0," in waited_err and "already done earlier 5" in waited_err, waited_err[-800:]
    assert check["target_rows"] == 5 and check["duplicates"] == 0 and check["missing"] == 0


def test_store_lease_one_live_run_and_a_dead_ones_is_taken_over(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(Settings(data_dir=tmp_path / "data"))
    try:
        with store.tenant("t", create=True):
            pass
        first, second = StoreLease(store, "t", "bot", "1"), StoreLease(store, "t", "bot", "2")
        with first.held():
            with pytest.raises(LeaseHeld, match=rf"run 1, pid {os.getpid()} on .*--wait-for-lease"):
                second.acquire()
            started = time.monotonic()
            with pytest.raises(LeaseHeld, match="waited 1 s"):
                second.acquire(wait=1)
            assert time.monotonic() - started >= 1
        second.acquire()  # released at the end of the first run

        def holder(**values: object) -> None:
            with store.tenant("t") as repo:
                repo.session.execute(sa.update(BotLease).values(**values))

        gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
        holder(pid=int(gone.stdout))  # SIGKILLed on this host: its process is gone, the lease is taken at once
        third = StoreLease(store, "t", "bot", "3")
        third.acquire()
        assert not second.renew()  # the old holder learns it lost the lease
        holder(host="another-host", expires_at=datetime.now(UTC) + timedelta(seconds=60))
        with pytest.raises(LeaseHeld, match="another-host"):
            StoreLease(store, "t", "bot", "4").acquire()
        holder(expires_at=datetime.now(UTC) - timedelta(seconds=1))  # its heartbeat stopped: expired
        racers = [StoreLease(store, "t", "bot", str(n)) for n in (5, 6, 7)]
        won: list[str] = []

        def race(lease: StoreLease) -> None:
            with contextlib.suppress(LeaseHeld):
                lease.acquire()
                won.append(lease.run_id)

        threads = [threading.Thread(target=race, args=(x,)) for x in racers]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert len(won) == 1, won
        # A run that stalled past its expiry and was taken over is told, and stops taking records.
        lost: list[str] = []
        fifth = StoreLease(store, "t", "other-bot", "8", seconds=0.3)
        with fifth.held(on_lost=lost.append):
            holder(generation=99)
            deadline = time.monotonic() + 5
            while not lost and time.monotonic() < deadline:
                time.sleep(0.05)
        assert lost and "taken over by another run" in lost[0]
    finally:
        store.close()


def test_batch_run_refused_while_another_run_holds_the_scenario(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from _bot_data import add_documents, approved_values

    from yomitori.bots.batch_run import run_batch
    from yomitori.bots.scenario import load_scenario

    for k, v in {"YOMITORI_TARGET_URL": "http://127.0.0.1:9", "YOMITORI_TARGET_USER": "u",
                 "YOMITORI_TARGET_PASSWORD": "p"}.items():
        monkeypatch.setenv(k, v)
    scenario = load_scenario(SCENARIO)
    store = Store(Settings(data_dir=tmp_path / "data"))
    try:
        with store.tenant("t", create=True) as repo:
            batch = repo.create_batch("1月分")
            add_documents(repo, batch, approved_values(1, seed=25))
            batch_id = batch.id
        with StoreLease(store, "t", scenario.name[:100], "cli-7").held(), pytest.raises(LeaseHeld, match="cli-7"):
            run_batch(store, "t", scenario, batch_id=batch_id)
        with store.tenant("t") as repo:
            run = repo.session.scalars(sa.select(BotRun)).one()
            assert run.status == "error" and "another bot run" in run.message
            assert repo.session.scalars(sa.select(KeyingReceipt)).all() == []
    finally:
        store.close()


def test_kill_between_journal_and_outcome_line_then_resume_lists_every_record_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Item 12: the second record is verified in the journal when the run dies, before its outcome line.
    records_file, journal, outcomes = tmp_path / "records.jsonl", tmp_path / "journal.sqlite", tmp_path / "o.jsonl"
    approved = write_records(records_file, 3, seed=24)
    cmd = _cli(records_file, journal, tmp_path, "--outcomes", str(outcomes))
    with _target(tmp_path, monkeypatch) as t:
        env = {**os.environ, **t.env()}
        killed = subprocess.run(cmd, env={**env, KILL_BEFORE_OUTCOME: "2"}, capture_output=True, text=True,
                                timeout=300, check=False, start_new_session=True)
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        assert len(outcomes.read_text().splitlines()) == 1
        log = SQLiteReceiptLog(journal)
        assert Counter(r.state for r in log.all())[State.verified] == 2
        log.close()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "1 record(s) completed from the journal" in " ".join(done.stderr.split())
        check = verify_target(t.export(), approved)
    lines = [json.loads(x) for x in outcomes.read_text(encoding="utf-8").splitlines()]
    assert sorted(x["record_id"] for x in lines) == sorted(r["id"] for r in approved)  # each exactly once
    assert {x["kind"] for x in lines} == {"keyed"}
    assert check["target_rows"] == 3 and check["duplicates"] == 0
