"""What still goes to review with the master, by field and by reason: where the straight-through rate is lost.

For `yomitori bench-masters`: each printed field sent to review is counted under its key and under one reason, the
first that holds of: the masters' own (`台帳の値と異なります` …, the master's value in it cut off), a validator's
finding that names it (its rule), the readers disagreeing, not read (ink only: blank or a mark), and else below
the gate's threshold. Each count says how many of those values were right as read (a person only confirms them)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from yomitori.forms_templates import templates
from yomitori.gate import readers_disagree
from yomitori.masters.gate import is_masters_reason


def reason(f: Any, named_by: dict[str, str]) -> str:
    """The one reason a field is in review (see the module docstring)."""
    ours = [r for r in f.reasons or [] if is_masters_reason(r)]
    if ours:
        return ours[0].split("（")[0]
    if f.key in named_by:
        return f"finding: {named_by[f.key]}"
    if not f.read:
        return "not read (blank or a mark)"
    if f.gate_features and readers_disagree(f.gate_features):
        return "the readers disagree"
    if f.reasons:
        return f"reason: {f.reasons[0]}"
    return "below the gate's threshold"


def review_breakdown(results: Iterable[Any], truths: dict[str, dict], top: int = 12) -> dict[str, Any]:
    """{"by_field": [[key, in review, right as read]…], "by_reason": [[reason, in review, right]…]}, most first."""
    by_field: dict[str, Counter[str]] = defaultdict(Counter)
    by_reason: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        t = truths[Path(r.source).name]
        named_by = {k: str(getattr(fd, "rule", None) or fd.get("rule"))
                    for fd in r.findings or [] for k in (fd.fields if hasattr(fd, "fields") else fd.get("fields", []))}
        for lf in templates()[f"{t['form']}/{t['layout']}"].fields:
            f = r.fields.get(lf.key)
            if f is not None and not f.review:
                continue
            want = t["truth"].get(lf.key)
            right = f is not None and (f.value == want or (f.value in (None, False) and want in (None, False)))
            why = "not extracted (page not recognised)" if f is None else reason(f, named_by)
            for tally, k in ((by_field, lf.key), (by_reason, why)):
                tally[k]["review"] += 1
                tally[k]["right"] += right
    ranked = lambda d: sorted(([k, c["review"], c["right"]] for k, c in d.items()), key=lambda x: -x[1])  # noqa: E731
    return {"by_field": ranked(by_field)[:top], "by_reason": ranked(by_reason)[:top]}
