"""Reconciliation lists of a batch, as PDF (to print and sign) and CSV: the 入力確認票 (what was keyed or
exported, by whom and when) and the 異動者リスト (who left, joined or moved). 個人番号 are always masked. A 支援措置
person's document is listed by its number and status only, unless the reader's role may open it (the guard exports
have, `yomitori.masters.pipeline.guard_export`, audited the same way)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from yomitori.errors import MissingDependency
from yomitori.review_ui.fields import mask_number
from yomitori.store.models import AuditLog, Batch, BotRun, KeyingReceipt, ReviewEvent
from yomitori.store.repo import TenantRepo

HOKOKUSHO, IDOU = "kyuyo_shiharai_hokokusho", "idou_todokede"
STATUS = {"auto": "自動確定", "needs_review": "要確認", "approved": "承認済", "keyed": "入力済"}
REASONS = {"retirement": "退職", "transfer": "転勤", "leave": "休職", "long_absence": "長欠", "death": "死亡",
           "dissolution": "会社解散", "address_error": "住所誤報", "other": "その他"}
METHODS = {"continue_special": "特別徴収継続", "lump_sum": "一括徴収", "ordinary": "普通徴収"}
# A print font of the ones run.sh installs (fonts-ipafont-gothic): TrueType, which reportlab embeds as is.
FONT_PATHS = ("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", "/usr/share/fonts/truetype/ipafont/ipag.ttf")
JST = datetime.now().astimezone().tzinfo  # the office's local time, as people read a printout
HIDDEN = "支援措置対象者（表示できません）"


@dataclass
class Report:
    title: str
    batch: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str]
    printed_by: str
    printed_at: str
    widths: list[float] | None = None  # column widths in mm (None: reportlab's own)
    numeric: tuple[int, ...] = ()  # columns right-aligned
    hidden: int = 0  # 支援措置 documents listed by number only (the reader's role may not open them)


def _when(t: datetime | None) -> str:
    if t is None:
        return ""
    t = t if t.tzinfo else t.replace(tzinfo=UTC)
    return t.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def _money(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else ""


def kakunin_hyo(repo: TenantRepo, batch_id: int, actor: str, hidden: frozenset[int] = frozenset()) -> Report:
    """入力確認票: every 明細書 of the batch, how it was settled, when it was keyed or exported and by whom; of the
    documents in `hidden` (支援措置, for a role not allowed) only the number, receipt and status."""
    batch = repo.get(Batch, batch_id)
    docs = [d for d in repo.documents(batch_id) if d.form == HOKOKUSHO]
    ids = [d.id for d in docs]
    receipts = {r.document_id: r for r in repo.session.scalars(
        sa.select(KeyingReceipt).where(KeyingReceipt.document_id.in_(ids), KeyingReceipt.result == "ok"))}
    runs = {str(r.id): r for r in repo.session.scalars(sa.select(BotRun).where(BotRun.batch_id == batch_id))}
    reviewers: dict[int, set[str]] = {}
    for ev in repo.session.scalars(sa.select(ReviewEvent).where(ReviewEvent.document_id.in_(ids))):
        reviewers.setdefault(ev.document_id, set()).add(ev.actor)
    exports = list(repo.session.scalars(sa.select(AuditLog).where(
        AuditLog.tenant_id == repo.tenant.id, AuditLog.action == "batch.export", AuditLog.object_type == "batches",
        AuditLog.object_id == str(batch_id)).order_by(AuditLog.id)))
    rows, total = [], 0
    for d in docs:
        v = {f.key: f.value for f in d.fields}
        r = receipts.get(d.id)
        run = runs.get(r.run_id) if r else None
        keyed = f"{_when(r.finished_at or r.updated_at)} {run.started_by if run else r.bot}" if r else ""
        if d.id in hidden:
            rows.append([str(d.id), HIDDEN, "", "", "", "電子" if d.layout == "315" else "紙",
                         STATUS.get(d.status.value, d.status.value), "", ""])
            continue
        total += v.get("payment_amount") or 0
        rows.append([str(d.id), str(v.get("recipient_name") or ""), mask_number(v.get("recipient_my_number") or ""),
                     _money(v.get("payment_amount")), _money(v.get("withholding_tax")),
                     "電子" if d.layout == "315" else "紙", STATUS.get(d.status.value, d.status.value),
                     "、".join(sorted(reviewers.get(d.id, ()))) or "—", keyed])
    withheld = len(hidden & set(ids))
    notes = [f"明細書 {len(docs)} 件・入力済 {sum(1 for d in docs if d.status.value == 'keyed')} 件・"
             f"支払金額合計 {total:,} 円" + (f"（支援措置対象者 {withheld} 件を除く）" if withheld else "")]
    notes += [f"出力 {_when(e.at)} {e.actor}：{e.detail.get('profile')} 形式 {e.detail.get('records')} 件"
              f"（出力できず {e.detail.get('refused', 0)} 件）" for e in exports]
    return Report("入力確認票", f"バッチ {batch.id} {batch.name}",
                  ["書類", "受給者氏名", "個人番号", "支払金額", "源泉徴収税額", "受付", "状態", "審査者",
                   "入力（日時・実行者）"],
                  rows, notes, actor, _when(datetime.now(UTC)), [14, 36, 38, 26, 26, 12, 18, 36, 67], (3, 4))


def idousha_list(repo: TenantRepo, batch_id: int, actor: str, hidden: frozenset[int] = frozenset()) -> Report:
    """異動者リスト: each 異動届出書, and each 明細書 that says its person joined or left during the year; of the
    documents in `hidden` (支援措置, for a role not allowed) only the number and kind: a new employer says where."""
    batch = repo.get(Batch, batch_id)
    rows = []
    for d in repo.documents(batch_id):
        v = {f.key: f.value for f in d.fields}
        if d.id in hidden:
            rows.append([str(d.id), "異動届" if d.form == IDOU else "明細書", HIDDEN, *[""] * 7])
        elif d.form == IDOU:
            rows.append([str(d.id), "異動届", str(v.get("employee_name") or ""),
                         mask_number(v.get("employee_my_number") or ""), str(v.get("change_date") or ""),
                         REASONS.get(str(v.get("change_reason")), str(v.get("change_reason") or "")),
                         str(v.get("payer_name") or ""), str(v.get("new_employer_name") or ""),
                         _money(v.get("uncollected_tax")), METHODS.get(str(v.get("collection_method")), "")])
        elif d.form == HOKOKUSHO and _moved(d):
            what = "退職" if v.get("retired_midyear") else "就職"
            rows.append([str(d.id), f"明細書（中途{what}）", str(v.get("recipient_name") or ""),
                         mask_number(v.get("recipient_my_number") or ""), str(v.get("employment_change_date") or ""),
                         what, str(v.get("payer_name") or ""), "", "", ""])
    return Report("異動者リスト", f"バッチ {batch.id} {batch.name}",
                  ["書類", "種類", "氏名", "個人番号", "異動年月日", "事由", "特別徴収義務者", "新勤務先", "未徴収税額",
                   "徴収方法"], rows, [f"異動者 {len(rows)} 名"], actor, _when(datetime.now(UTC)),
                  [14, 30, 32, 38, 22, 18, 42, 42, 20, 15], (8,))


def to_csv(report: Report) -> bytes:
    """UTF-8 with a byte order mark, CRLF: what Excel on a municipal PC opens as Japanese text."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(report.columns)
    w.writerows(report.rows)
    return out.getvalue().encode("utf-8-sig")


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = "IPAGothic"
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    path = next((p for p in FONT_PATHS if Path(p).is_file()), None)
    if path is None:
        raise MissingDependency("no Japanese print font for the PDF lists: install fonts-ipafont-gothic "
                                "(./run.sh installs it)")
    pdfmetrics.registerFont(TTFont(name, path))
    return name


def to_pdf(report: Report) -> bytes:
    """A4 landscape, a table that repeats its header on every page, a signature box for the checker."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10)
    num = ParagraphStyle("num", parent=cell, alignment=2)
    head = ParagraphStyle("head", parent=cell, fontSize=16, leading=20)
    small = ParagraphStyle("small", parent=cell, fontSize=9, leading=12)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, title=report.title, author="yomitori")

    def footer(canvas: Any, d: Any) -> None:
        canvas.setFont(font, 8)
        canvas.drawRightString(d.pagesize[0] - 12 * mm, 7 * mm, f"{report.title}　{report.batch}　{d.page} ページ")

    sign = Table([["確認者", "", "確認日", ""]], colWidths=[18 * mm, 35 * mm, 18 * mm, 35 * mm], rowHeights=[12 * mm])
    sign.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, 9), ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                              ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    meta = Paragraph(f"{report.batch}<br/>印刷 {report.printed_at}　{report.printed_by}", small)
    top = Table([[Paragraph(report.title, head), meta, sign]], colWidths=[70 * mm, 95 * mm, None])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    data = [[Paragraph(c, cell) for c in report.columns]]
    data += [[Paragraph(c.replace("&", "&amp;").replace("<", "&lt;"), num if i in report.numeric else cell)
              for i, c in enumerate(row)] for row in report.rows]
    if not report.rows:
        data.append([Paragraph("該当する書類はありません", cell)] + [""] * (len(report.columns) - 1))
    table = Table(data, repeatRows=1, colWidths=[w * mm for w in report.widths] if report.widths else None)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f7f7f7")])]))
    story = [top, Spacer(1, 5 * mm), table, Spacer(1, 4 * mm), *[Paragraph(n, small) for n in report.notes]]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def _moved(d: Any) -> bool:
    """A 明細書 that says its person joined or left during the year (listed in the 異動者リスト)."""
    return any(f.key in ("retired_midyear", "joined_midyear") and f.value for f in d.fields)


def build(repo: TenantRepo, batch_id: int, kind: str, actor: str, *, role: str | None = None,
          support_measure_roles: list[str] | None = None, via: str = "cli") -> Report:
    """The list `kind` (kakunin | idou) for `actor` of `role`: a 支援措置 person's document shown in full only for a
    role in `support_measure_roles` (default the review UI's setting; no role, an OS user, is none of them), each
    such document audited as viewed or refused, with the list as the view."""
    from yomitori.masters.pipeline import guard_export
    from yomitori.review_ui.settings import UISettings

    allowed = UISettings().support_measure_roles if support_measure_roles is None else support_measure_roles
    listed = [d for d in repo.documents(batch_id) if d.form == HOKOKUSHO] if kind == "kakunin" else [
        d for d in repo.documents(batch_id) if d.form == IDOU or (d.form == HOKOKUSHO and _moved(d))]
    _, withheld = guard_export(repo, listed, actor=actor, role=role, allowed=allowed, via=via,
                               view=f"report:{kind}:{via}")
    hidden = frozenset(d.id for d in withheld)
    report = {"kakunin": kakunin_hyo, "idou": idousha_list}[kind](repo, batch_id, actor, hidden)
    report.hidden = len(hidden)
    repo.audit(actor, "batch.report", repo.get(Batch, batch_id), kind=kind, rows=len(report.rows),
               hidden=len(hidden))
    return report
