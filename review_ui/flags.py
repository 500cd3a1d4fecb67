"""Why a field waits for a reviewer, in Japanese: every flagged field says so, whatever flagged it.

The extraction's own reasons are mostly Japanese already; the few that are not (a digit count, codes) are put
into words here, and a flag with no stated reason is explained by what flagged it: a blank that may hold
writing, two readers that disagree, a low confidence. The validators' findings are shown beside these.
"""

from __future__ import annotations

import re
from typing import Any

from yomitori.review_ui import fields as F

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_CODES = {
    "low_confidence": "読み取りの確からしさが低いため確認が必要です",
    "readers_disagree": "2つの読み取りエンジンの結果が異なります",
    "not_read": "記入があるかどうか判別できません",
    "finding": "入力内容の検査で指摘があります（下の説明をご覧ください）",
}
_PATTERNS = (
    (re.compile(r"(\d+) cells written, (\d+) digits read"), "記入のある枠は{0}個、読み取れた数字は{1}個です"),
)
UNSTATED = "読み取り結果に疑問があるため確認が必要です"


def _japanese(reason: str) -> str:
    if reason in _CODES:
        return _CODES[reason]
    for pattern, text in _PATTERNS:
        if m := pattern.search(reason):
            return text.format(*m.groups())
    return reason if _JAPANESE.search(reason) else UNSTATED


def flag_reasons(form: str, f: Any) -> list[str]:
    """The reasons to show for a flagged field (deduplicated, in order); never empty. The validators' findings
    are shown apart, with their own messages."""
    out: list[str] = []
    for reason in f.reasons or []:
        text = _japanese(str(reason))
        if text not in out:
            out.append(text)
    if [a for a in f.alternatives or [] if a != f.value] and not F.is_personal_number(form, f.key, f.value) \
            and _CODES["readers_disagree"] not in out and not any("台帳" in x for x in out):
        out.append(_CODES["readers_disagree"])
    if f.value in (None, "") and not out:
        out.append(_CODES["not_read"])
    if not out and f.findings:
        out.append(_CODES["finding"])
    if not out:
        out.append(f"{_CODES['low_confidence']}（確からしさ {round(100 * (f.confidence or 0))}%）")
    return out
