"""The confidence gate: a calibrated probability that each field is right, and whether it needs a person.

A read field's confidence comes from a small logistic model per group of value types (see
`gate_policy.yaml`) over: the recognizer's character probabilities, whether an independent second
reading agrees, whether normalization or Japanese post-processing raised a doubt, and how well the page
registered. `yomitori calibrate` fits the model on generated pages so that a confidence of 0.99 is
right 99 times in 100, and picks each group's threshold to meet the policy's residual error target.
Validator findings and name variants always send a field to review, whatever its confidence.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import yaml

from yomitori.forms_templates.contract import contract_forms

if TYPE_CHECKING:
    from yomitori.ocr.fields import FieldResult
    from yomitori.validation.findings import Finding

log = logging.getLogger(__name__)
MODEL_FILE = "gate.json"  # in yomitori.models, written by `yomitori calibrate`
FEATURES = ("logit_min", "logit_mean", "agree", "second_missing", "doubt", "registration", "length",
            "agree_second_min", "agree_both_min", "confirmed")


@dataclass(frozen=True)
class Policy:
    targets: dict[str, float]
    critical_types: frozenset[str]
    group_of: dict[str, str]
    mark_threshold: float
    review_on: frozenset[str]
    min_confidence: float
    sure_only: frozenset[str]  # criticalities that pass only by sure agreement, never by the curve alone

    def group(self, value_type: str) -> str:
        return self.group_of.get(value_type, "text")

    def criticality(self, value_type: str) -> str:
        return "critical" if value_type in self.critical_types else "standard"


@cache
def policy() -> Policy:
    raw = yaml.safe_load(resources.files("yomitori").joinpath("gate_policy.yaml").read_text(encoding="utf-8"))
    group_of = {t: g for g, types in raw["groups"].items() for t in types}
    return Policy(dict(raw["target_residual_error"]), frozenset(raw["critical_types"]), group_of,
                  float(raw["mark_threshold"]), frozenset(raw["review_on_findings"]), float(raw["min_confidence"]),
                  frozenset(raw.get("sure_agreement_only", ())))


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def features(f: FieldResult, registration: float, confirmed: bool = False) -> list[float]:
    """The gate's inputs for one read field (the order of FEATURES); `confirmed`: the form's arithmetic
    vouches for this value (see `Doc.confirmed`)."""
    confs = f.char_confidences or (f.raw_confidence,)
    text = "" if f.value is None else str(f.value)
    agree = 1.0 if f.agreement else 0.0
    # Two readers agreeing is strong evidence only where each was sure of every letter: the interaction
    # terms let the model reach the tail (≥ 0.999) that a sum of separate terms cannot.
    second = min(f.second_confidences) if f.agreement and f.second_confidences else 0.0
    return [
        _logit(min(confs)),
        _logit(sum(confs) / len(confs)),
        agree,
        1.0 if f.agreement is None else 0.0,
        1.0 if f.reasons else 0.0,
        registration,
        math.log1p(len(text)),
        agree * _logit(second),
        agree * _logit(min(min(confs), second)),
        1.0 if confirmed else 0.0,
    ]


_AGREE, _SECOND_MISSING, _BOTH_MIN, _CONFIRMED = (
    FEATURES.index(f) for f in ("agree", "second_missing", "agree_both_min", "confirmed"))


@dataclass(frozen=True)
class GroupModel:
    coef: tuple[float, ...]
    intercept: float
    thresholds: dict[str, float]  # criticality → the confidence a field needs to pass
    # Sure agreement, per criticality: (letter confidence, probability). Fields both readers agree on, each
    # reading every letter at that confidence or better, were right that often in calibration (a Jeffreys
    # estimate). The logistic curve, fitted mostly on harder fields, understates them: 2,143 such amounts
    # were all right, but it put two thirds of them below 0.999.
    sure: dict[str, tuple[float, float]] = field(default_factory=dict)
    # The same among fields a validator also vouches for (`confirmed`): a フリガナ that is a dictionary reading of
    # the name beside it. Agreeing kana alone were right 97 % of the time, too rarely to pass any.
    sure_confirmed: dict[str, tuple[float, float]] = field(default_factory=dict)

    def probability(self, x: Sequence[float], criticality: str = "standard") -> float:
        z = self.intercept + sum(c * v for c, v in zip(self.coef, x, strict=True))
        p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        for table, applies in ((self.sure, True), (self.sure_confirmed, vouched_for(x))):
            at, sure_p = table.get(criticality, (None, 0.0))
            if applies and at is not None and sure_agreement(x, at):
                p = max(p, sure_p)
        return p

    def sure_probabilities(self, criticality: str) -> list[float]:
        """What sure agreement states for this criticality (each meets the policy's target by construction)."""
        return [table[criticality][1] for table in (self.sure, self.sure_confirmed) if criticality in table]


def vouched_for(x: Sequence[float]) -> bool:
    """A check confirms the value: the form's arithmetic, or the name a フリガナ is a reading of (x: FEATURES)."""
    return x[_CONFIRMED] == 1.0


def readers_disagree(x: Sequence[float]) -> bool:
    """The independent second reading gave another value (x: a field's FEATURES): a person decides between them."""
    return x[_AGREE] == 0.0 and x[_SECOND_MISSING] == 0.0


def sure_agreement(x: Sequence[float], at: float) -> bool:
    """Both readers agree and each read every letter at `at` or better (x: a field's FEATURES)."""
    return x[_AGREE] == 1.0 and x[_BOTH_MIN] >= _logit(at)


@dataclass(frozen=True)
class GateModel:
    groups: dict[str, GroupModel]
    meta: dict[str, object]

    def to_json(self) -> str:
        return json.dumps({
            "features": list(FEATURES),
            "groups": {g: {"coef": list(m.coef), "intercept": m.intercept, "thresholds": m.thresholds,
                           "sure": m.sure, "sure_confirmed": m.sure_confirmed}
                       for g, m in self.groups.items()},
            "meta": self.meta,
        }, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> GateModel:
        raw = json.loads(text)
        fitted = raw.get("features") or []
        if fitted != list(FEATURES[: len(fitted)]):
            raise ValueError("gate model was fitted on other features; run `yomitori calibrate`")
        # A model fitted before features were added gives them no weight until it is fitted again.
        pad = (0.0,) * (len(FEATURES) - len(fitted))
        def sure(table: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
            return {c: (float(a), float(p)) for c, (a, p) in table.items()}

        groups = {g: GroupModel((*m["coef"], *pad), float(m["intercept"]), dict(m["thresholds"]),
                                sure(m.get("sure", {})), sure(m.get("sure_confirmed", {})))
                  for g, m in raw["groups"].items()}
        return cls(groups, raw.get("meta", {}))


# Before calibration: agreement of both readers and a sure recognizer, or a person looks.
_UNCALIBRATED = GroupModel((1.0, 0.0, 4.0, 0.0, -8.0, 0.0, 0.0, 0.0, 0.0, 0.0), -4.0,
                           {"critical": 0.99, "standard": 0.98})


@cache
def gate_model() -> GateModel | None:
    path = resources.files("yomitori.models").joinpath(MODEL_FILE)
    return GateModel.from_json(path.read_text(encoding="utf-8")) if path.is_file() else None


def apply_gate(form: str, fields: MutableMapping[str, FieldResult], *, registration: float,
               model: GateModel | None = None) -> list[Finding]:
    """Set each field's calibrated confidence and review decision; returns the validators' findings.

    A finding sends the fields it names to review. Its message travels with the finding (the batch stores
    the findings, the review UI shows them), not in the fields' reasons, so a reviewer reads it once."""
    pol = policy()
    model = model or gate_model()
    types = {k: f.type for k, f in contract_forms()[form].fields.items()} if form in contract_forms() else {}
    try:
        findings, confirmed = _check(form, fields)
    except Exception:  # a validator bug must cost a review, never the page
        log.exception("the gate's validators raised on a %s page; every field goes to review", form)
        from yomitori.validation.findings import Finding

        for f in fields.values():
            f.review = True
        return [Finding(tuple(sorted(fields)), "validation_failed",
                        "検証処理でエラーが発生しました。全項目を確認してください", "error")]
    for key, f in fields.items():
        value_type = types.get(key, "text")
        if not f.read:
            f.review = f.review or f.confidence < pol.mark_threshold
            continue
        group = model.groups.get(pol.group(value_type)) if model else None
        group = group or _UNCALIBRATED
        f.gate_features = tuple(features(f, registration, key in confirmed))
        criticality = pol.criticality(value_type)
        f.confidence = group.probability(f.gate_features, criticality)
        f.review = (f.confidence < group.thresholds[criticality] or bool(f.reasons)
                    or readers_disagree(f.gate_features))
    for key in keys_sent_to_review(findings):
        if key in fields:
            fields[key].review = True
    _share_identity_doubts(form, fields)
    return findings


def keys_sent_to_review(findings: Sequence[Finding]) -> set[str]:
    """The fields that findings of the policy's review severities name: they go to review whatever their confidence."""
    review_on = policy().review_on
    return {key for finding in findings if finding.severity in review_on for key in finding.fields}


def _share_identity_doubts(form: str, fields: MutableMapping[str, FieldResult]) -> None:
    """A value an exact identity ties to a doubtful one goes to review with it: the identity checks nothing then.

    Seen in a benchmark: 令和5 read as 令和3, 1,354,761 as 1,351,761 and 804,761 as 801,761 on one faint page.
    The misreads agree with each other (1,351,761 − 550,000 = 801,761), so no rule objected, and the income,
    read surely by both readers, passed while the other two went to review."""
    if form not in contract_forms():
        return
    from yomitori.validation import rules_for

    for r in rules_for(form):
        # The year only picks the rules (they changed once, in 2025): it shares no digits with the amounts.
        tied = [k for k in r.reads if k != "tax_year" and k in fields and fields[k].read
                and fields[k].value is not None]
        if r.identity and any(fields[k].review for k in tied):
            for k in tied:
                fields[k].review = True


def _check(form: str, fields: Mapping[str, FieldResult]) -> tuple[list, frozenset[str]]:
    """The validators' findings and the keys an exact identity confirms (none for a form without a contract)."""
    if form not in contract_forms():
        return [], frozenset()
    from yomitori.validation import check_document

    return check_document(form, {k: f.value for k, f in fields.items()})


def fit_group(x: np.ndarray, y: np.ndarray, *, l2: float = 0.01, steps: int = 50) -> tuple[np.ndarray, float]:
    """Logistic regression by Newton's method with a small ridge penalty (features are few and dense).

    The penalty only keeps separable data finite: at 1.0 it shrank the coefficients that carry the tail
    (both readers sure and agreeing), so sure fields were stated at 0.995 while 99.9 % of them were right,
    and the thresholds passed a quarter fewer fields than the errors seen allowed."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(xb.shape[1]) * l2
    reg[-1, -1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + reg @ w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + reg + np.eye(len(w)) * 1e-9
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def pick_threshold(p: np.ndarray, right: np.ndarray, target: float) -> float:
    """The lowest confidence at which the fields passing are wrong no more than `target` of the time.

    Two estimates must both meet the target: the calibrated model's own (the mean of 1 − p over the
    passing fields), which is smooth where errors are rare, and the errors actually seen in the
    calibration set. A set with too few fields to show the target passes nothing.
    """
    if len(p) * target < 1:
        return 1.0
    order = np.argsort(-p)
    n = np.arange(1, len(p) + 1)
    expected = np.cumsum(1.0 - p[order]) / n
    seen = np.cumsum(~right[order]) / n
    ranked = p[order]
    # A threshold passes every field at or above it: judge it where a run of equal confidences ends.
    run_end = np.append(ranked[1:] != ranked[:-1], True)
    ok = np.flatnonzero((expected <= target) & (seen <= target) & run_end)
    return float(ranked[ok[-1]]) if ok.size else 1.0
