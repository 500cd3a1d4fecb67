"""The batch stages run in-process (the embedded default): generated scans in, store rows and contract records out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from yomitori.bench import is_blank
from yomitori.jobs import stages
from yomitori.jobs.runtime import HOST, Runtime, use_runtime
from yomitori.jobs.submit import run_inline, submit_batch
from yomitori.settings import Settings
from yomitori.store.models import Document, Field, FieldStatus, Page, PageStatus, SourceFile
from yomitori.synth.dataset import write_dataset

pytestmark = pytest.mark.slow
SAMPLES = Path(__file__).parents[1] / "samples"


@pytest.fixture
def rt(tmp_path, extractor, monkeypatch):
    monkeypatch.setattr(stages, "_extractor", extractor)  # the session's recognizer: no second model load
    runtime = Runtime.from_settings(Settings(data_dir=tmp_path / "data", pages_per_job=2))
    use_runtime(runtime)
    yield runtime
    use_runtime(None)
    runtime.store.close()


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> tuple[list[Path], dict[str, dict]]:
    d = tmp_path_factory.mktemp("scans")
    write_dataset(d, count=1, seed=41, layouts=["kyuyo_shiharai_hokokusho/national", "idou_todokede/municipal_a"],
                  clean=True)
    truth = {json.loads(line)["source"]: json.loads(line) for line in (d / "truth.jsonl").open(encoding="utf-8")}
    (d / "broken.jpg").write_bytes((SAMPLES / "meisai-print.jpg").read_bytes()[:2000])
    (d / "empty.png").write_bytes(b"")
    files = [d / name for name in sorted(truth)] + [SAMPLES / "bundle-soukatsu-meisai.pdf", d / "broken.jpg",
                                                  d / "empty.png"]
    return files, truth


def _counts(rt: Runtime) -> tuple[int, ...]:
    with rt.store.tenant() as repo:
        return tuple(repo.session.scalar(sa.select(sa.func.count()).select_from(m))
                     for m in (SourceFile, Page, Document, Field))


def test_batch_runs_in_process_and_every_page_is_accounted_for(rt, scans):
    files, truth = scans
    batch_id = submit_batch(rt, files, name="e2e")
    seen = []
    final = run_inline(rt, rt.settings.tenant, batch_id, seen.append)
    assert final.status == "done" and seen[-1].pages_done == 4
    assert (final.files, final.files_failed, final.pages, final.pages_done, final.documents) == (5, 2, 4, 4, 4)

    with rt.store.tenant() as repo:
        records = list(repo.records(batch_id))
    assert [r["source"] for r in records] == [str(f) for f in files[:2]] + [str(files[2])] * 2 + [str(f)
                                                                                                 for f in files[3:]]
    assert [r["pages"] for r in records] == [[1], [1], [1], [2], [], []]
    errors = records[4:]
    assert all(r["form"] == "error" and r["error"] for r in errors)
    assert "damaged or truncated" in errors[0]["error"] and "empty file" in errors[1]["error"]
    assert [r["form"] for r in records[2:4]] == ["kyuyo_soukatsuhyo", "kyuyo_shiharai_hokokusho"]
    for record in records[:2]:  # generated pages: read as well as `yomitori extract` reads them
        t = truth[Path(record["source"]).name]
        assert (record["form"], record["layout"]) == (t["form"], t["layout"])
        assert set(record) == {"source", "pages", "form", "layout", "form_confidence", "fields"}
        assert set(record["fields"]) == set(t["truth"])
        filled = [k for k, v in t["truth"].items() if not is_blank(v)]
        right = sum(record["fields"][k]["value"] == t["truth"][k] for k in filled)
        assert right / len(filled) >= 0.85
        assert all(set(f) == {"value", "confidence", "review"} for f in record["fields"].values())

    with rt.store.tenant() as repo:  # the 総括表 heads the 明細書 behind it, and is checked against them
        docs = repo.documents(batch_id)
        soukatsu, bundled = docs[2], docs[3]
        assert bundled.bundle_id == soukatsu.id and docs[0].bundle_id is None
        reported = next(f for f in soukatsu.fields if f.key == "reported_recipients").value
        mismatch = [x for x in soukatsu.findings if x["rule"] == "bundle_count_mismatch"]
        assert bool(mismatch) == (reported not in (None, 1))


def test_stages_rerun_without_duplicates_and_a_reviewers_value_survives(rt, scans):
    files, _ = scans
    batch_id = submit_batch(rt, files[:1])
    run_inline(rt, rt.settings.tenant, batch_id)
    before = _counts(rt)
    with rt.store.tenant() as repo:
        source_ids = [s.id for s in repo.sources(batch_id)]
        page_ids = [p.id for p in repo.pages(batch_id)]
        doc = repo.documents(batch_id)[0]
        field = next(f for f in doc.fields if f.value is not None and f.key != "recipient_my_number")
        repo.correct_field(field.id, "訂正", actor="sato")
    tenant = rt.settings.tenant
    assert stages.ingest_source(tenant, source_ids[0]) == 0
    assert stages.extract_pages(tenant, page_ids) == 0
    stages.validate_pages(tenant, page_ids)
    assert _counts(rt) == before

    # A worker died after claiming the page: its lease names a process that is gone, and has an hour left.
    with rt.store.tenant() as repo:
        repo.session.execute(sa.update(Page).where(Page.id == page_ids[0]).values(
            status=PageStatus.ingested, lease_owner=f"{HOST}:999999:dead",
            lease_until=datetime.now(UTC) + timedelta(hours=1)))
    final = run_inline(rt, tenant, batch_id)
    assert final.pages_done == 1 and _counts(rt) == before
    with rt.store.tenant() as repo:
        page = repo.get(Page, page_ids[0])
        assert page.status == PageStatus.done and page.attempts == 2
        again = repo.get(Field, field.id)
        assert (again.value, again.status) == ("訂正", FieldStatus.corrected)


def test_validator_findings_send_the_fields_they_name_to_review(rt):
    with rt.store.tenant(create=True) as repo:
        batch = repo.create_batch()
        source = repo.add_source(batch, "a.png", b"a")
        doc = Document(batch_id=batch.id, source_id=source.id, first_page=1, form="kyuyo_shiharai_hokokusho")
        repo.session.add(doc)
        repo.session.flush()
        for key, value in (("recipient_my_number", "123456789012"), ("payment_amount", 4_560_000)):
            repo.session.add(Field(document_id=doc.id, key=key, value=value, confidence=0.99, review=False,
                                   status=FieldStatus.auto))
        repo.session.flush()
        stages.gate_document(repo, doc)
        stages.gate_document(repo, doc)  # validating again changes nothing
        status = {f.key: (f.status, [x["rule"] for x in f.findings]) for f in doc.fields}
        assert status == {"recipient_my_number": (FieldStatus.needs_review, ["my_number_invalid"]),
                          "payment_amount": (FieldStatus.auto, [])}
        assert repo.refresh_document_status(doc) == "needs_review"
        assert "123456789012" not in json.dumps(doc.findings, ensure_ascii=False)  # no 個人番号 in findings


def test_the_validate_stage_keeps_the_gates_findings_and_each_message_shows_once(rt, monkeypatch):
    import yomitori.validation
    from yomitori.extract import PageResult
    from yomitori.gate import apply_gate
    from yomitori.ocr.fields import FieldResult
    from yomitori.review_ui.schemas import FieldOut

    def read(key: str, value: object) -> FieldResult:
        return FieldResult(key, value, 0.999, False, raw=str(value), read=True, raw_confidence=0.999,
                           char_confidences=(0.999,) * len(str(value)), second=value, agreement=True)

    form = "kyuyo_shiharai_hokokusho"
    fields = {"tax_year": read("tax_year", 2024), "payment_amount": read("payment_amount", 4_560_000),
              "income_after_deduction": read("income_after_deduction", 4_000_000)}  # 2024 rules give 3,208,000
    result = PageResult("a.png", [1], form, "national", 0.9, fields)
    result.findings = apply_gate(form, fields, registration=0.9)
    real, calls = yomitori.validation.validate_document, []
    monkeypatch.setattr(yomitori.validation, "validate_document", lambda *a, **k: calls.append(a) or real(*a, **k))
    tenant = rt.settings.tenant

    def extract_and_validate() -> int:
        with rt.store.tenant() as repo:
            page = repo.session.scalar(sa.select(Page))
            page.status, page.lease_owner = PageStatus.ingested, "me"
            page.lease_until = datetime.now(UTC) + timedelta(minutes=5)
            repo.session.flush()
            assert stages._write_result(repo, page.id, "me", result)
            page_id = page.id
        stages.validate_pages(tenant, [page_id])
        return page_id

    with rt.store.tenant(create=True) as repo:
        batch = repo.create_batch()
        source = repo.add_source(batch, "a.png", b"a")
        repo.session.add(Page(batch_id=batch.id, source_id=source.id, number=1))
    extract_and_validate()
    assert calls == []  # the gate's findings were stored and used: no second validator run
    with rt.store.tenant() as repo:
        doc = repo.session.scalar(sa.select(Document))
        income = next(f for f in doc.fields if f.key == "income_after_deduction")
        assert income.status == FieldStatus.needs_review
        assert [x["rule"] for x in income.findings] == ["employment_income_mismatch"]
        assert [x["rule"] for x in doc.findings] == ["employment_income_mismatch"]
        for f in doc.fields:  # what the review API shows: each message once
            shown = FieldOut.of(doc, f, unmasked=True)
            messages = shown.reasons + [x.message for x in shown.findings]
            assert len(messages) == len(set(messages)), messages
        repo.correct_field(income.id, 3_208_000, actor="sato")

    # Extracted again (a worker died): the reviewer's value stays, so the findings are those of the stored values.
    extract_and_validate()
    assert len(calls) == 1
    with rt.store.tenant() as repo:
        doc = repo.session.scalar(sa.select(Document))
        assert doc.findings == []
        assert next(f for f in doc.fields if f.key == "income_after_deduction").value == 3_208_000
