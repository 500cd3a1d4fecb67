"""The masters in the gate: a value equal to the matched master's passes on that evidence, a different one is
offered to the reviewer as the master's candidate (Alt+1), and the master's characters win for 外字 and 異体字.

Runs after `yomitori.gate.apply_gate`, on the same FieldResults, in `yomitori extract --master`, the batch pipeline
and `yomitori bench-masters`. A field a validator names is left as the gate decided: the finding still needs a person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from yomitori.masters.matching import (
    PERSON_ITEMS,
    EmployerMatch,
    MasterIndex,
    PersonMatch,
    agrees,
    compare,
    edits,
    fold,
)
from yomitori.validation.findings import ERROR, WARNING, Finding

if TYPE_CHECKING:
    from yomitori.extract import PageResult
    from yomitori.ocr.fields import FieldResult

HOKOKUSHO, IDOU, SOUKATSU = "kyuyo_shiharai_hokokusho", "idou_todokede", "kyuyo_soukatsuhyo"
# master item → contract key, per form
PERSON_KEYS = {
    HOKOKUSHO: {"name": "recipient_name", "name_kana": "recipient_name_kana", "birth_date": "birth_date",
                "address": "recipient_address", "my_number": "recipient_my_number"},
    IDOU: {"name": "employee_name", "name_kana": "employee_name_kana", "birth_date": "employee_birth_date",
           "address": "address_jan1", "my_number": "employee_my_number"},
}
EMPLOYER_KEYS = {
    HOKOKUSHO: {"designated_number": "payer_designated_number", "corporate_number": "payer_number",
                "name": "payer_name", "address": "payer_address", "phone": "payer_phone"},
    IDOU: {"designated_number": "payer_designated_number", "corporate_number": "payer_number",
           "name": "payer_name", "address": "payer_address"},
    SOUKATSU: {"designated_number": "payer_designated_number", "corporate_number": "payer_number",
               "name": "payer_name", "address": "payer_address"},
}
# The family a 明細書 lists (控除対象配偶者, 控除対象扶養親族, 16歳未満の扶養親族): name, カナ and 個人番号 each; the
# form gives no birth date of theirs, so the household's address (the recipient's, as the master knows it) stands
# in for where they live: one living elsewhere is matched by 個人番号 only.
FAMILY = {HOKOKUSHO: {"spouse": "控除対象配偶者", **{f"dependent_{i}": f"控除対象扶養親族{i}" for i in range(1, 5)},
                      **{f"under16_{i}": f"16歳未満の扶養親族{i}" for i in range(1, 5)}}}
FAMILY_ITEMS = ("name", "name_kana", "address")
MISDIRECTED, NOT_ON_ROLL, UNKNOWN_DESIGNATED = "master_not_resident", "master_not_on_roll", "master_unknown_designated"


@dataclass(frozen=True)
class Evidence:
    agreeing_items: int
    min_confidence: float
    near_edits: int = 1  # a name this many letters from a strongly matched person's is theirs, misread
    near_min_chars: int = 3
    near_unsure_below: float = 0.9  # it passes only when the recognizer doubted a letter this much


@cache
def evidence_policy() -> Evidence:
    raw = yaml.safe_load(resources.files("yomitori").joinpath("gate_policy.yaml").read_text(encoding="utf-8"))
    m = raw.get("master_evidence", {})
    return Evidence(int(m.get("agreeing_items", 2)), float(m.get("min_confidence", 0.3)),
                    int(m.get("near_edits", 1)), int(m.get("near_min_chars", 3)),
                    float(m.get("near_unsure_below", 0.9)))


@dataclass
class MasterOutcome:
    person: PersonMatch | None = None
    family: dict[str, PersonMatch] = field(default_factory=dict)  # FAMILY slot → the master person it names
    employer: EmployerMatch | None = None
    candidates: dict[str, Any] = field(default_factory=dict)  # field key → the master's value, offered first
    passed: list[str] = field(default_factory=list)  # field keys that passed on the master's evidence
    findings: list[Finding] = field(default_factory=list)
    misdirected: bool = False  # 送付先誤り: the recipient was no 1 January resident
    support_measure: bool = False

    def summary(self) -> dict[str, Any]:
        """What the review UI shows as the match's evidence (no 個人番号: only whether its hash matched)."""
        out: dict[str, Any] = {}
        if self.person:
            out["person"] = _person_summary(self.person)
        if self.family:
            out["family"] = {slot: _person_summary(m) for slot, m in self.family.items()}
        if self.employer:
            e = self.employer.employer
            out["employer"] = {"designated_number": e.designated_number, "name": e.name, "by": self.employer.by,
                               "evidence": self.employer.evidence}
        out["passed"] = self.passed
        return out


def _person_summary(m: PersonMatch) -> dict[str, Any]:
    return {"resident_id": m.resident.resident_id, "name": m.resident.name, "by": m.by, "score": m.score,
            "evidence": m.evidence}


def apply_master(form: str, fields: MutableMapping[str, FieldResult], index: MasterIndex, *,
                 hmac_of: Callable[[str], str], findings: Iterable[Finding | dict] = ()) -> MasterOutcome:
    """Match the document to the masters and let the evidence decide fields (see the module docstring).

    `hmac_of` hashes a read 個人番号 with the tenant's key; `findings` are the validators' (fields they name keep
    the gate's decision)."""
    out = MasterOutcome()
    if not index:
        return out
    named = {k for f in findings for k in (f.fields if isinstance(f, Finding) else f.get("fields", []))}
    value = lambda key: fields[key].value if key in fields else None  # noqa: E731
    if form in PERSON_KEYS and index.residents:
        keys = PERSON_KEYS[form]
        read = {item: value(key) for item, key in keys.items() if item != "my_number"}
        mn = value(keys["my_number"])
        hashed = hmac_of(mn) if isinstance(mn, str) and len(mn) == 12 else None
        out.person = index.match_person(read, hashed)
        if out.person is not None:
            _decide(fields, keys, out.person, out, named)
            out.support_measure = out.person.resident.support_measure
        _person_checks(form, fields, index, out)
        _family(form, fields, index, out, named, hmac_of, household=out.person.resident.address if out.person
                else value(keys["address"]))
    if form in EMPLOYER_KEYS and index.employers:
        keys = EMPLOYER_KEYS[form]
        read = {item: value(key) for item, key in keys.items()}
        if not (isinstance(read.get("corporate_number"), str) and len(read["corporate_number"]) == 13):
            read["corporate_number"] = None  # a 12-digit payer number is a person's 個人番号, never matched
        out.employer = index.match_employer(read, out.person.resident.resident_id if out.person else None)
        if out.employer is not None:
            _decide(fields, keys, out.employer, out, named)
        designated = read.get("designated_number")
        if designated and designated not in index.by_designated:
            out.findings.append(Finding((keys["designated_number"],), UNKNOWN_DESIGNATED,
                                        "特別徴収義務者マスタにない指定番号です", ERROR))
    if form == IDOU and out.employer is not None and index.roll:
        on_roll = out.person is not None and out.person.resident.resident_id in index.roll.get(
            out.employer.employer.designated_number, set())
        if not on_roll:
            out.findings.append(Finding((PERSON_KEYS[IDOU]["name"],), NOT_ON_ROLL,
                                        "この給与所得者はこの特別徴収義務者の特別徴収対象者名簿にありません", ERROR))
    return out


def _family(form: str, fields: MutableMapping[str, FieldResult], index: MasterIndex, out: MasterOutcome,
            named: set[str], hmac_of: Callable[[str], str], household: Any) -> None:
    """Each listed family member matched like the recipient (個人番号, else name + カナ + the household's address)
    and gated on the same evidence; one under 支援措置 guards the document too."""
    for slot in FAMILY.get(form, {}):
        keys = {"name": f"{slot}_name", "name_kana": f"{slot}_name_kana", "my_number": f"{slot}_my_number"}
        read = {item: fields[key].value if key in fields else None for item, key in keys.items()}
        mn = read.pop("my_number")
        if not (read["name"] or read["name_kana"] or mn):
            continue
        match = index.match_person({**read, "address": household},
                                   hmac_of(mn) if isinstance(mn, str) and len(mn) == 12 else None)
        if match is None or (out.person and match.resident.resident_id == out.person.resident.resident_id):
            continue  # no one, or the recipient himself: never his own dependent
        out.family[slot] = match
        _decide(fields, keys, match, out, named, items=FAMILY_ITEMS)
        out.support_measure = out.support_measure or match.resident.support_measure


def _decide(fields: MutableMapping[str, FieldResult], keys: dict[str, str], match: PersonMatch | EmployerMatch,
            out: MasterOutcome, named: set[str], items: tuple[str, ...] = PERSON_ITEMS) -> None:
    pol = evidence_policy()
    master = match.resident if isinstance(match, PersonMatch) else match.employer
    for item, key in keys.items():
        f = fields.get(key)
        evidence = match.evidence.get(item, "absent")
        if f is None or not f.read or match.others_agreeing(item) < pol.agreeing_items:
            continue
        may_pass = key not in named and f.normalized and f.raw_confidence >= pol.min_confidence
        if item == "my_number":
            if evidence == "equal" and may_pass:
                _pass(f, out, "宛名台帳の個人番号と一致")
            elif evidence == "differs":
                f.review = True
                f.reasons.append("宛名台帳の個人番号と一致しません")
            continue
        mine = getattr(master, item)
        if agrees(evidence):
            if item in ("name", "name_kana", "address") and isinstance(f.value, str):
                # 外字・異体字: the master's characters are the person's (髙橋 where the reader saw 高橋); spaces too.
                # Also where a finding keeps the field for a person: they see the master's letters.
                theirs = _spaced_as(mine, f.value) if item != "address" else mine
                if theirs != f.value:
                    f.second, f.value, f.agreement = f.value, theirs, False
            if may_pass:
                _pass(f, out, "台帳と一致" if evidence == "equal" else "台帳の文字に合わせました（異体字）")
        elif evidence == "differs" and mine and _second_is(item, f, mine) and (
                not isinstance(match, PersonMatch) or match.strong_without(item, items)):
            # The readers disagree and the second read the master's value: two sources of three agree (the
            # first reader, that disagreed, doubted). The value is the master's; the first reading stays as second.
            match.evidence[item] = "second"
            f.second, f.value = f.value, _spaced_as(mine, f.value) if item != "address" else mine
            if may_pass:
                _pass(f, out, "台帳の値と一致（二つ目の読取）")
            else:
                out.candidates[key] = mine
                f.review = True
                f.reasons.append(f"台帳の値と一部異なります。台帳の文字にしました（読取: {f.second}）")
        elif evidence == "differs" and mine and (near := _near(item, f, mine, match, pol, items)):
            # A letter or so off (`near`), or only some of its letters read (`partial`: a fax lost the rest), the
            # name of the person every other item (or the 個人番号) says this is: theirs, misread. The value is the
            # master's; the reading stays as the second.
            match.evidence[item] = near
            unsure = f.raw_confidence < pol.near_unsure_below or f.agreement is False
            f.second, f.value, f.agreement = f.value, _spaced_as(mine, f.value), False
            if near == "near" and may_pass and unsure:
                _pass(f, out, "台帳の文字に合わせました（読み違いの訂正）")
            else:  # read surely yet not the master's, or mostly not read: a person decides
                out.candidates[key] = mine
                f.review = True
                f.reasons.append(f"台帳の値と一部異なります。台帳の文字にしました（読取: {f.second}）")
        elif evidence == "differs" and mine:
            out.candidates[key] = mine
            f.review = True
            f.reasons.append(f"台帳の値と異なります（台帳: {mine}）")


def _near(item: str, f: FieldResult, mine: str, match: PersonMatch | EmployerMatch, pol: Evidence,
          items: tuple[str, ...]) -> str | None:
    """`near`: a name (or カナ) read within `near_edits` letters of a strongly matched person's; `partial`: fewer
    letters read than theirs, each one of theirs in order but `near_edits` misread, the others lost (see
    gate_policy.yaml); else None."""
    if item not in ("name", "name_kana") or not isinstance(match, PersonMatch) or not isinstance(f.value, str):
        return None
    if len(fold(mine)) < pol.near_min_chars or not match.strong_without(item, items):
        return None
    read = [r for r in (f.value, f.second) if isinstance(r, str) and fold(r)]
    if any(edits(r, mine) <= pol.near_edits for r in read):
        return "near"
    return "partial" if any(_within(fold(r), fold(mine), pol.near_edits) for r in read) else None


def _second_is(item: str, f: FieldResult, mine: Any) -> bool:
    """Whether the second reader, disagreeing with the first, read the master's value (a text item only)."""
    return (item in ("name", "name_kana", "address") and f.agreement is False and isinstance(f.second, str)
            and agrees(compare(item, f.second, mine)))


def _within(part: str, whole: str, changed: int = 0) -> bool:
    """Whether `part` is shorter than `whole` and all its letters but `changed` appear in `whole` in the same order
    (letters lost, at most `changed` of those left misread): the length of their longest common subsequence."""
    if not part or len(part) >= len(whole):
        return False
    row = [0] * (len(whole) + 1)
    for c in part:
        prev = 0
        for j, w in enumerate(whole, 1):
            prev, row[j] = row[j], prev + 1 if c == w else max(row[j], row[j - 1])
    return len(part) - row[-1] <= changed


def is_masters_reason(reason: object) -> bool:
    """Whether a field's reason was given by the masters' gate (so a new match replaces it)."""
    return isinstance(reason, str) and reason.startswith(("台帳", "宛名台帳"))


def _pass(f: FieldResult, out: MasterOutcome, why: str) -> None:
    f.review = False
    f.confidence = max(f.confidence, 0.999)
    f.reasons = [why]
    out.passed.append(f.key)


def _spaced_as(master: str, read: str) -> str:
    """The master's letters with the space between 姓 and 名 where the master has it, else where it was read."""
    if " " in master or " " not in read:
        return master
    cut = read.index(" ")
    return f"{master[:cut]} {master[cut:]}" if len(master) == len(read) - 1 else master


def _person_checks(form: str, fields: MutableMapping[str, FieldResult], index: MasterIndex,
                   out: MasterOutcome) -> None:
    """送付先誤り: a 明細書 whose recipient was no resident on 1 January of the year after its 年分."""
    if form != HOKOKUSHO:
        return
    year = fields["tax_year"].value if "tax_year" in fields else None
    day = f"{int(year) + 1}-01-01" if isinstance(year, int) else None
    person = out.person.resident if out.person else None
    if person is not None and (day is None or person.resident_on(day)):
        return
    out.misdirected = True
    why = "宛名台帳に該当者がいません" if person is None else "1月1日現在、この市区町村の住民ではありません"
    out.findings.append(Finding(("recipient_name", "recipient_address"), MISDIRECTED,
                                f"{why}（送付先誤りの可能性：正しい市区町村へ回送）", WARNING))


def with_master(folder: Path | None) -> Callable[[PageResult], dict[str, Any]]:
    """`yomitori extract --master FOLDER`: each page's record after the masters' gate, with a `master` key saying
    whom it matched, on what evidence, and the checks' findings (the key is in memory only, for this run)."""
    if folder is None:
        return lambda r: r.to_record()
    import secrets

    from yomitori.masters.keys import my_number_hmac
    from yomitori.masters.records import load_folder

    key = secrets.token_bytes(32)
    index = MasterIndex(*load_folder(folder, key=key))

    def apply(r: PageResult) -> dict[str, Any]:
        if not r.fields:
            return r.to_record()
        outcome = apply_master(r.form, r.fields, index, findings=r.findings or [],
                               hmac_of=lambda n: my_number_hmac(key, "local", n))
        record = r.to_record()
        record["master"] = {**outcome.summary(), "misdirected": outcome.misdirected,
                            "support_measure": outcome.support_measure,
                            "findings": [{"fields": list(f.fields), "rule": f.rule, "message": f.message}
                                         for f in outcome.findings]}
        for key_, value in outcome.candidates.items():
            record["fields"][key_]["master_candidate"] = value  # type: ignore[index]
        return record

    return apply
