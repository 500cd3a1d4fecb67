"""Which master person and employer a document is about, and on what evidence.

A person is found by the 個人番号's keyed hash, else by name, カナ, 生年月日 and 住所 scored together; names and
addresses are compared with variant letters folded (髙/高, 﨑/崎, 邊/辺 …: the table of `ocr.japanese`) and spaces,
dashes and width ignored. An employer is found by 指定番号 or 法人番号, else by its name and 所在地
together (a 個人事業主 prints its owner's 個人番号, no 法人番号, and often no 指定番号); when the matched person is on
the employer's 特別徴収 roll, that is one more agreeing item (`roll`). Each item's evidence is `equal` (as written),
`folded` (equal once variant letters are folded: the master's characters are the person's), `differs`
or `absent` (nothing read, or nothing in the master); the gate marks a name `near` when it differs from a strongly
matched person's by a letter or so (`edits`), and that is no agreement.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from yomitori.masters.records import Employer, Resident, RollEntry
from yomitori.ocr.japanese import OLD_FORMS, standard_forms

PERSON_ITEMS = ("name", "name_kana", "birth_date", "address")
EMPLOYER_ITEMS = ("designated_number", "corporate_number", "name", "address", "phone")
# Weights of equal items when no 個人番号 decides: a birth date and a name say most, a shared address least.
WEIGHTS = {"name": 3.0, "name_kana": 2.0, "birth_date": 3.0, "address": 2.0}
# Without 個人番号 a match needs the name (or its カナ) and a birth date or an address: a homonym (same name and カナ,
# the two are one piece of evidence) or a twin (same birth date and address) is someone else.
NAMES, PLACES = ("name", "name_kana"), ("birth_date", "address")
_OLD = str.maketrans(OLD_FORMS)
_DASHES = re.compile(r"[‐‑‒–—―−ー－ｰ-]")


def fold(text: str | None) -> str:
    """For comparing only: NFKC, no spaces, every variant or old letter in its common form, one kind of dash."""
    if not text:
        return ""
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))
    return _DASHES.sub("-", standard_forms(s.translate(_OLD)))


def _plain(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))) if text else ""


def compare(item: str, read: Any, master: Any) -> str:
    """equal | folded | differs | absent for one item (birth dates and numbers compare exactly)."""
    if read in (None, "") or master in (None, ""):
        return "absent"
    if item in ("birth_date", "designated_number", "corporate_number", "my_number"):
        return "equal" if str(read) == str(master) else "differs"
    if item == "phone":
        return "equal" if re.sub(r"\D", "", str(read)) == re.sub(r"\D", "", str(master)) else "differs"
    if _plain(read) == _plain(master):
        return "equal"
    return "folded" if fold(read) == fold(master) else "differs"


def agrees(evidence: str) -> bool:
    return evidence in ("equal", "folded")


def edits(a: str | None, b: str | None) -> int:
    """Letters inserted, deleted or replaced between two texts once folded (Levenshtein distance)."""
    x, y = fold(a), fold(b)
    row = list(range(len(y) + 1))
    for i, cx in enumerate(x, 1):
        prev, row[0] = row[0], i
        for j, cy in enumerate(y, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (cx != cy))
    return row[-1]


@dataclass
class PersonMatch:
    resident: Resident
    by: str  # "my_number" | "attributes"
    score: float
    evidence: dict[str, str] = field(default_factory=dict)  # item → equal | folded | differs | absent

    def others_agreeing(self, item: str) -> int:
        """Items other than `item` that agree (個人番号 counts as one when it matched)."""
        return sum(agrees(e) for k, e in self.evidence.items() if k != item)

    def strong_without(self, item: str, items: Iterable[str] = PERSON_ITEMS) -> bool:
        """Whether the match stands without `item`: the 個人番号's hash matched, or every other of `items` (what
        the document can say of this person) was read and agrees (カナ, 生年月日 and 住所 for a name)."""
        if self.evidence.get("my_number") == "equal":
            return True
        others = [k for k in items if k not in (item, "my_number")]
        return len(others) >= 2 and all(agrees(self.evidence.get(k, "absent")) for k in others)


@dataclass
class EmployerMatch:
    employer: Employer
    by: str  # "designated_number" | "corporate_number" | "name_address" | "roll"
    evidence: dict[str, str] = field(default_factory=dict)

    def others_agreeing(self, item: str) -> int:
        return sum(agrees(e) for k, e in self.evidence.items() if k != item)


def _enough(evidence: Mapping[str, str]) -> bool:
    return any(agrees(evidence.get(k, "")) for k in NAMES) and any(agrees(evidence.get(k, "")) for k in PLACES)


class MasterIndex:
    """One tenant's masters in memory, indexed for matching (built from the store or from CSV records)."""

    def __init__(self, residents: Iterable[Resident] = (), employers: Iterable[Employer] = (),
                 roll: Iterable[RollEntry] = ()) -> None:
        self.residents = list(residents)
        self.employers = list(employers)
        self.by_hmac = {r.my_number_hmac: r for r in self.residents if r.my_number_hmac}
        self.by_id = {r.resident_id: r for r in self.residents}
        self._by_key: dict[tuple[str, str], list[Resident]] = defaultdict(list)
        for r in self.residents:
            for item in PERSON_ITEMS:
                value = getattr(r, item)
                if value:
                    self._by_key[(item, fold(value))].append(r)
        self.by_designated = {e.designated_number: e for e in self.employers}
        self.by_corporate = {e.corporate_number: e for e in self.employers if e.corporate_number}
        self._employers_by_name: dict[str, list[Employer]] = defaultdict(list)
        for e in self.employers:
            if e.name and e.address:
                self._employers_by_name[fold(e.name)].append(e)
        self.roll: dict[str, set[str]] = defaultdict(set)
        for entry in roll:
            self.roll[entry.designated_number].add(entry.resident_id)

    def __bool__(self) -> bool:
        return bool(self.residents or self.employers)

    def match_person(self, read: Mapping[str, Any], my_number_hmac: str | None = None) -> PersonMatch | None:
        """The master person these read items (PERSON_ITEMS) are about, or None when no one fits well enough."""
        if my_number_hmac and my_number_hmac in self.by_hmac:
            r = self.by_hmac[my_number_hmac]
            return PersonMatch(r, "my_number", 10.0, {"my_number": "equal", **self._evidence(read, r)})
        seen: dict[str, Resident] = {}
        for item in PERSON_ITEMS:
            for r in self._by_key.get((item, fold(read.get(item))), ()) if read.get(item) else ():
                seen[r.resident_id] = r
        scored = []
        for r in seen.values():
            ev = self._evidence(read, r)
            equal = [k for k, e in ev.items() if agrees(e)]
            scored.append((sum(WEIGHTS[k] for k in equal), len(equal), r, ev))
        scored.sort(key=lambda s: -s[0])
        if not scored or not _enough(scored[0][3]):
            return None
        if len(scored) > 1 and scored[1][0] >= scored[0][0]:
            return None  # two people fit as well: a person decides
        best, _, r, ev = scored[0]
        if my_number_hmac and r.my_number_hmac:
            ev["my_number"] = "differs"
        return PersonMatch(r, "attributes", best, ev)

    @staticmethod
    def _evidence(read: Mapping[str, Any], r: Resident) -> dict[str, str]:
        return {item: compare(item, read.get(item), getattr(r, item)) for item in PERSON_ITEMS}

    def match_employer(self, read: Mapping[str, Any], resident_id: str | None = None) -> EmployerMatch | None:
        """The employer named by the read 指定番号, else 法人番号, else by name and 所在地 both agreeing (one such
        employer only: two of one name at one address are for a person to tell apart), else the one on whose
        特別徴収 roll `resident_id` (the matched person) is and whose 所在地 agrees; with each item's evidence
        (EMPLOYER_ITEMS), `roll` `equal` when `resident_id` is on its roll."""
        e, by = None, ""
        if read.get("designated_number") in self.by_designated:
            e, by = self.by_designated[read["designated_number"]], "designated_number"
        elif read.get("corporate_number") in self.by_corporate:
            e, by = self.by_corporate[read["corporate_number"]], "corporate_number"
        elif read.get("name") and read.get("address"):
            same = [c for c in self._employers_by_name.get(fold(read["name"]), ())
                    if agrees(compare("address", read["address"], c.address))]
            if len(same) == 1:
                e, by = same[0], "name_address"
        if e is None and resident_id and read.get("address"):
            # The matched person's employer by the roll, its 所在地 as read: a misread name is then offered as theirs.
            on_roll = [c for c in self.employers if resident_id in self.roll.get(c.designated_number, ())
                       and agrees(compare("address", read["address"], c.address))]
            if len(on_roll) == 1:
                e, by = on_roll[0], "roll"
        if e is None:
            return None
        evidence = {item: compare(item, read.get(item), getattr(e, item)) for item in EMPLOYER_ITEMS}
        if resident_id and resident_id in self.roll.get(e.designated_number, ()):
            evidence["roll"] = "equal"
        return EmployerMatch(e, by, evidence)
