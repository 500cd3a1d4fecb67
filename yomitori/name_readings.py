"""Readings of people's names from UniDic: does a フリガナ fit the name beside it?

UniDic (the unidic-lite wheel, pinned: nothing downloads) lists tens of thousands of surnames and given names
with their readings, and MeCab's n best analyses of a name give the readings it may have (幸子: サチコ, ユキコ,
コウコ …). A reading that is one of them is vouched for by the name; one a single kana away from exactly one
of them (ヨウユ beside 陽子) is that reading with a kana misread. A name UniDic does not know vouches for nothing.

Shared by the extractor, which puts such a kana right, and the validators, which vouch for a reading that fits.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, lru_cache
from itertools import combinations, pairwise

from yomitori.ocr.japanese import standard_forms

KANA_SUFFIX = "_kana"  # the contract's key of a name's フリガナ: recipient_name → recipient_name_kana
N_BEST = 12  # analyses per name part: enough for every reading of common names, few made-up compounds
# Kana a recognizer takes for one another (a stroke more or less, a size): only these are corrected.
CONFUSABLE: tuple[frozenset[str], ...] = tuple(frozenset(g) for g in (
    "コユヨロ", "シツ", "ソンリ", "ウワ", "クタケ", "ハバパ", "ヒビピ", "フブプ", "ヘベペ", "ホボポ", "カガ", "キギ",
    "クグ", "ケゲ", "コゴ", "サザ", "シジ", "スズ", "セゼ", "ソゾ", "タダ", "チヂ", "ツヅ", "テデ", "トド", "アァ",
    "イィ", "ウゥ", "エェ", "オォ", "ヤャ", "ユュ", "ヨョ", "ツッ", "ニミ", "ノメ", "ナメ", "ネ子", "エユ", "ワク",
))
_CONFUSED = {c: frozenset().union(*(g for g in CONFUSABLE if c in g)) for g in CONFUSABLE for c in g}
# Pairs among them that are also how one name's reading differs from another's: voicing (ナカタ, ナカダ) and ウ/ワ
# (美羽: ミウ, ミワ). A dictionary missing a name's reading cannot tell these from a misread: UniDic gives 比嘉 only
# ヒカ and 美羽 only ミワ, and ヒガ and ミウ, read alike by both readers, were "put right" to them.
_VOICING = ("カガ", "キギ", "クグ", "ケゲ", "コゴ", "サザ", "シジ", "スズ", "セゼ", "ソゾ", "タダ", "チヂ", "ツヅ",
            "テデ", "トド", "ハバパ", "ヒビピ", "フブプ", "ヘベペ", "ホボポ")
_READING_VARIANTS = {frozenset(p) for g in (*_VOICING, "ウワ") for p in combinations(g, 2)}


@cache
def _tagger():  # type: ignore[no-untyped-def]
    import fugashi  # imported on first use: the dictionary takes a moment to open

    return fugashi.Tagger()


@lru_cache(maxsize=8192)
def readings(part: str, *, names_only: bool = False) -> frozenset[str]:
    """Katakana readings UniDic's n best analyses give one part of a name (a surname or a given name);
    `names_only`: only analyses made of name entries (人名), the readings a name is known to have."""
    found = set()
    for nodes in _tagger().nbestToNodeList(standard_forms(part), N_BEST):
        if names_only and not all(n.feature.pos3 == "人名" for n in nodes):
            continue
        # A name part is never voiced at its start: 田 as ダ belongs inside a compound (山田), not in 田中.
        kana = [nodes[0].feature.kanaBase, *(n.feature.kana for n in nodes[1:])]
        if all(isinstance(k, str) and k and k != "*" for k in kana):
            found.add("".join(kana))
    return frozenset(found)


def _cuts(kana: str, parts: int) -> Iterator[tuple[str, ...]]:
    """The ways to cut `kana`, its spaces ignored, into `parts` pieces: the recognizer's word gaps inside a
    reading are unreliable (クボタ アク ミ), so the name's own parts decide where the space goes."""
    letters = "".join(kana.split())
    for cuts in combinations(range(1, len(letters)), parts - 1):
        bounds = (0, *cuts, len(letters))
        yield tuple(letters[a:b] for a, b in pairwise(bounds))


def fitting_reading(name: str, kana: str) -> str | None:
    """`kana` spaced as the name is, when it is a reading UniDic gives the name part by part; else None."""
    names = name.split()
    if not names or not kana.strip():
        return None
    found = {" ".join(pieces) for pieces in _cuts(kana, len(names))
             if all(k in readings(n) for n, k in zip(names, pieces, strict=True))}
    if len(names) == 1:
        return kana if found else None  # one part: the spacing read stays as it was
    return found.pop() if len(found) == 1 else (kana if kana in found else None)


def fits(name: str, kana: str) -> bool:
    """Whether `kana` is a reading UniDic gives `name` (spacing aside)."""
    return fitting_reading(name, kana) is not None


def nearest_reading(name: str, kana: str) -> str | None:
    """`kana` with one misread kana put right, when exactly one reading of the name is that close; else None.

    Only a kana the recognizer takes for another (ヨ for コ, ィ for イ) is replaced, and only where the name's
    other parts fit as read: a made-up reading is never built from two guesses."""
    names = name.split()
    if not names or not kana.strip() or fits(name, kana):
        return None
    found = set()
    for pieces in _cuts(kana, len(names)):
        fixed, changed = [], 0
        for n, k in zip(names, pieces, strict=True):
            near = [k] if k in readings(n) else [r for r in readings(n, names_only=True) if _one_confusion(k, r)]
            if len(near) != 1:
                break
            fixed.append(near[0])
            changed += near[0] != k
        else:
            if changed == 1:
                found.add(" ".join(fixed) if len(names) > 1 else fixed[0])
    return found.pop() if len(found) == 1 else None


def reading_variant(read: str, reading: str) -> bool:
    """Whether two readings differ only where one name's reading may differ from another's (see _READING_VARIANTS)."""
    a, b = "".join(read.split()), "".join(reading.split())
    diff = {frozenset((x, y)) for x, y in zip(a, b, strict=False) if x != y} if len(a) == len(b) else {None}
    return bool(diff) and diff <= _READING_VARIANTS


def _one_confusion(read: str, reading: str) -> bool:
    if len(read) != len(reading):
        return False
    diff = [(a, b) for a, b in zip(read, reading, strict=True) if a != b]
    return len(diff) == 1 and diff[0][1] in _CONFUSED.get(diff[0][0], ())
