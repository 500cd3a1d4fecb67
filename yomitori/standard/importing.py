"""Electronic submissions into a batch: each line of a 315 file (CP932, or eLTAX PCdesk's UTF-8) becomes a page
and a document beside the scanned ones, with the line kept in place of a page image.

Its values go through the same validators, gate and review as read ones, then to the bots. A value from a file
is what the employer sent, not a reading, so nothing goes to review for want of confidence; only a validator's
finding sends a field there. A malformed line is an error record naming its line and item; the rest goes on.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from yomitori.jobs.runtime import Runtime
from yomitori.standard.profiles import Profile, load_profile
from yomitori.standard.records import read_file, split_line
from yomitori.store.models import Document, Field, FieldStatus, Page, PageStatus, SourceFile, SourceStatus, utcnow

log = logging.getLogger(__name__)

SUBMISSION_PROFILE = "315"
SUBMISSION_KIND = "315"  # what the upload guard calls such a file
_MAGIC = b"315,"


def looks_like_submission(head: bytes) -> bool:
    """A file whose first line is a 法定資料の種類 315 record (after a UTF-8 byte order mark, if any)."""
    return head.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n").startswith(_MAGIC)


def count_lines(path: Path) -> int:
    """Records in a submission file, counted in chunks (the upload guard never reads a file whole)."""
    n, last = 0, b"\n"
    with path.open("rb") as fp:
        while chunk := fp.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def profile() -> Profile:
    return load_profile(SUBMISSION_PROFILE)


def ingest_submission(rt: Runtime, tenant: str, source_id: int, owner: str, data: bytes) -> int:
    """Write the file's lines as pages (extracted, with their document and fields) and queue their validation."""
    from yomitori.jobs.stages import link_bundles, run_validators, submit_validation

    p = profile()
    with rt.store.tenant(tenant) as repo:
        source = repo.get(SourceFile, source_id)
        batch_id = source.batch_id
        known = set(repo.session.scalars(sa.select(Page.number).where(Page.source_id == source_id)))
        count, page_ids, errors = 0, [], 0
        for line in read_file(p, data):
            count += 1
            if line.number in known:  # a re-run after a crash
                continue
            page = Page(batch_id=batch_id, source_id=source_id, number=line.number, record_line=line.text)
            repo.session.add(page)
            if line.values is None:
                page.status, page.error = PageStatus.error, line.error
                errors += 1
                continue
            page.status, page.form, page.layout = PageStatus.extracted, p.form, p.name
            page.form_confidence, page.rotation, page.extracted_at = 1.0, 0, utcnow()
            doc = Document(batch_id=batch_id, source_id=source_id, first_page=line.number, form=p.form,
                           layout=p.name, form_confidence=1.0)
            repo.session.add(doc)
            repo.session.flush()
            page.document_id = doc.id
            for key, value in line.values.items():
                repo.session.add(Field(document_id=doc.id, key=key, value=value, extracted_value=value,
                                       confidence=1.0, review=False, reasons=[], status=FieldStatus.auto))
            doc.findings = run_validators(p.form, line.values)
            repo.session.flush()
            page_ids.append(page.id)
        done = repo.session.execute(
            sa.update(SourceFile).where(SourceFile.id == source_id, SourceFile.lease_owner == owner)
            .values(status=SourceStatus.ingested if count else SourceStatus.error,
                    error=None if count else "the file holds no 315 record", page_count=count,
                    lease_owner=None, lease_until=None).execution_options(synchronize_session=False))
        if done.rowcount and errors:
            log.warning("batch %s: %d of %d lines of input %d are malformed", batch_id, errors, count, source_id)
    submit_validation(rt, tenant, page_ids)
    with rt.store.tenant(tenant) as repo:
        repo.finish_if_complete(batch_id, before=link_bundles)
    return count


def line_items(page: Page, form: str) -> list[dict[str, Any]]:
    """What the review UI shows in place of the image: each item of the line, 個人番号 masked."""
    from yomitori.review_ui import fields as F

    p = profile()
    cells = split_line(p, page.record_line or "")
    out = []
    for i, col in enumerate(p.columns):
        text = cells[i] if i < len(cells) else ""
        if col.field and text and F.is_personal_number(form, col.field, text):
            text = F.display(form, col.field, text)
        out.append({"no": col.item_no or i + 1, "item": col.item, "text": text, "field": col.field})
    return out
