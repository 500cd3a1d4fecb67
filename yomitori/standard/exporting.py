"""A batch's documents written through an export profile: only approved, straight-through or keyed ones, by a
user whose role may see 個人番号 (the file holds them in clear), every export in the audit log. A 支援措置 person's
document is written only for a role allowed to open it (yomitori.masters.pipeline.guard_export), else refused."""

from __future__ import annotations

from dataclasses import dataclass

from yomitori.errors import YomitoriError
from yomitori.standard.profiles import Profile
from yomitori.standard.records import ExportItem, ExportResult, ItemError, RecordRefused, write_file
from yomitori.store.models import Batch, Document, DocumentStatus, User
from yomitori.store.repo import Store, TenantRepo

# approved by a reviewer, every field straight through, or already keyed (which only such documents are)
EXPORTABLE = (DocumentStatus.approved, DocumentStatus.auto, DocumentStatus.keyed)


class ExportRefused(YomitoriError):
    """The user may not export, or gave no valid password; the message never says which."""


@dataclass(frozen=True)
class Exporter:
    username: str
    role: str


def authorize(store: Store, tenant: str, username: str, password: str) -> Exporter:
    """The acting user, proved by password (lockout counted as at the review UI's login) and allowed 個人番号."""
    from yomitori.review_ui.auth import login
    from yomitori.review_ui.settings import UISettings

    settings = UISettings()
    result = login(store, settings, tenant, username, password)
    if result.user is None:
        raise ExportRefused(f"not exported: {result.message}")
    role = result.user.role.value
    if role not in settings.unmask_roles:
        with store.tenant(tenant) as repo:
            user = repo.user(username)
            repo.audit(username, "batch.export_refused", user, reason="role", role=role)
        raise ExportRefused(f"not exported: the role {role} may not see 個人番号, which this file holds in clear "
                            f"(roles allowed: {', '.join(settings.unmask_roles)}; YOMITORI_UNMASK_ROLES)")
    return Exporter(username, role)


def can_export(user: User, unmask_roles: list[str]) -> bool:
    return user.role.value in unmask_roles


def exportable(repo: TenantRepo, batch_id: int, form: str) -> list[Document]:
    return [d for d in repo.documents(batch_id)
            if d.form == form and d.status in EXPORTABLE and not d.returned_reason]


def export_items(docs: list[Document]) -> list[ExportItem]:
    out = []
    for d in docs:
        line = d.pages[0].record_line if d.pages else None
        where = f"line {d.first_page}" if line else f"p.{d.first_page}"
        out.append(ExportItem(f"document {d.id} ({d.source.name.split('/')[-1]} {where})",
                              {f.key: f.value for f in d.fields}, line))
    return out


def export_batch(repo: TenantRepo, batch_id: int, profile: Profile, *, actor: str, role: str | None = None,
                 options: dict[str, str] | None = None, via: str = "cli",
                 support_measure_roles: list[str] | None = None) -> ExportResult:
    """Write the batch's exportable documents of the profile's form; audited with counts, never values.

    `role` is the acting user's: without it no 支援措置 document is written (`support_measure_roles`, default the
    review UI's setting, name the roles that may)."""
    from yomitori.masters.pipeline import SUPPORT_MEASURE_WITHHELD, guard_export
    from yomitori.review_ui.settings import UISettings

    batch = repo.get(Batch, batch_id)
    allowed = UISettings().support_measure_roles if support_measure_roles is None else support_measure_roles
    docs, withheld = guard_export(repo, exportable(repo, batch_id, profile.form), actor=actor, role=role,
                                  allowed=allowed, via=via)
    result = write_file(profile, export_items(docs), options)
    result.refused += [(item.ref, RecordRefused([ItemError(0, "", None, SUPPORT_MEASURE_WITHHELD)]))
                       for item in export_items(withheld)]
    repo.audit(actor, "batch.export", batch, profile=profile.name, form=profile.form, via=via,
               records=len(result.written), refused=len(result.refused),
               options={k: v for k, v in (options or {}).items()})
    return result
