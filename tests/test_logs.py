"""Structured logs: JSON lines with job context, and no 個人番号 anywhere in them, even from a whole batch at DEBUG."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from yomitori.logs import MASK, log_context, redact, setup_logging

# 個人番号 with valid check digits (python-stdnum's jp.in_ accepts them), and a valid 法人番号.
MY_NUMBER, HOUJIN = "123456789018", "5835678256246"


@pytest.fixture
def captured():
    buf = io.StringIO()
    handler = setup_logging("DEBUG", stream=buf)
    yield buf
    logging.getLogger().removeHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)


def _lines(buf: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buf.getvalue().splitlines()]


@pytest.mark.parametrize("written", [
    MY_NUMBER, "1234 5678 9018", "1234-5678-9018", "１２３４５６７８９０１８", "１２３４－５６７８－９０１８",
    "1234\u30005678\u30009018", "番号123456789018です", "1234567890189",  # 13 digits that are no 法人番号
    "1" + MY_NUMBER,  # a valid 法人番号 whose last 12 digits are a valid 個人番号: in doubt, masked
])
def test_twelve_digit_runs_are_masked_in_every_spelling(written):
    assert MY_NUMBER not in redact(written) and MASK in redact(written)


def test_what_is_not_a_my_number_stays_readable():
    for text in ("batch 7 page 12 of 345", "2026-01-15 09:30", "電話 03-1234-5678", "〒231-0005", "2,514,646円",
                 f"法人番号 {HOUJIN}", "12345678901"):
        assert redact(text) == text


def test_json_lines_carry_the_job_context_and_mask_message_args_extra_and_tracebacks(captured):
    log = logging.getLogger("yomitori.test")
    with log_context(tenant="yokohama", batch=7, pages=[3, 4], stage="extract"):
        log.info("read %s for %s", MY_NUMBER, HOUJIN, extra={"value": "1234 5678 9018", "fields": [MY_NUMBER],
                                                              "number": int(MY_NUMBER)})
        try:
            raise ValueError(f"check digit of {MY_NUMBER} is wrong")
        except ValueError:
            log.exception("validator crashed")
    log.warning("outside %s", "no context")
    first, second, third = _lines(captured)
    assert first["message"] == f"read {MASK} for {HOUJIN}"
    assert (first["value"], first["fields"], first["number"]) == (MASK, [MASK], MASK)
    assert (first["level"], first["logger"], first["tenant"], first["batch"], first["pages"], first["stage"]) == (
        "INFO", "yomitori.test", "yokohama", 7, [3, 4], "extract")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", first["time"])
    assert "ValueError: check digit of" in second["exc_info"] and MASK in second["exc_info"]
    assert "batch" not in third
    assert MY_NUMBER not in captured.getvalue()


@pytest.mark.slow
def test_a_whole_batch_at_debug_logs_no_my_number(tmp_path, extractor, monkeypatch, captured):
    from yomitori.jobs import stages
    from yomitori.jobs.runtime import Runtime, use_runtime
    from yomitori.jobs.submit import run_inline, submit_batch
    from yomitori.settings import Settings
    from yomitori.synth.dataset import write_dataset

    scans = tmp_path / "scans"
    write_dataset(scans, count=1, seed=52, layouts=["kyuyo_shiharai_hokokusho/national",
                                                    "idou_todokede/municipal_b"], clean=True)
    truth = [json.loads(line) for line in (scans / "truth.jsonl").open(encoding="utf-8")]
    numbers = {v for t in truth for k, v in t["truth"].items() if k.endswith("my_number") and v}
    assert len(numbers) >= 2

    def leaky_validator(form, values):  # a validator bug that quotes the value it choked on
        raise ValueError(f"cannot check {values}")

    import yomitori.validation

    # The gate runs the validators during extraction; the jobs run them again only after a correction.
    monkeypatch.setattr(yomitori.validation, "check_document", leaky_validator)
    monkeypatch.setattr(yomitori.validation, "validate_document", leaky_validator)
    monkeypatch.setattr(stages, "_extractor", extractor)
    rt = Runtime.from_settings(Settings(data_dir=tmp_path / "data", pages_per_job=1))
    use_runtime(rt)
    try:
        batch_id = submit_batch(rt, sorted(scans.glob("*.png")) + sorted(scans.glob("*.jpg"))
                                + sorted(scans.glob("*.tif")))
        final = run_inline(rt, rt.settings.tenant, batch_id)
        with rt.store.tenant() as repo:
            stored = {f.value for d in repo.documents(batch_id) for f in d.fields if f.key.endswith("my_number")}
    finally:
        use_runtime(None)
        rt.store.close()
    assert final.pages_done == 2
    assert stored & numbers  # the numbers were read, so they were there to leak

    out = captured.getvalue()
    records = _lines(captured)
    crashes = [r for r in records if r["message"].startswith("the gate's validators raised")]
    assert len(crashes) == 2 and all("cannot check" in r["exc_info"] for r in crashes)
    assert {r.get("stage") for r in records} >= {"ingest", "extract", "validate"}
    assert any(r.get("batch") == batch_id for r in records)
    for number in numbers:
        assert number not in out
    digits = re.sub(r"(?<=\d)[ \-－\u3000](?=\d)", "", out)  # join grouped spellings before looking
    assert [run for run in re.findall(r"\d{12,}", digits) if len(run) != 13] == []
