"""Which form of a variant letter a name was printed in (髙橋 or 高橋), judged from both readers' probabilities.

PP-OCR's dictionary has 髙, 眞 and 邉, but the models saw them rarely: on a printed 髙 both still read 高 and
give 髙 a small share, where on a printed 高 they give it almost none. Measured on generated calibration and tuning
pages (the two readers' mean share of the variant at the letter):

- 高 printed: under 0.2 % (126 names); 髙 printed: 0.4–16 % in 31 of 35 (the other 4 gave it nothing).
- 真 printed: under 0.05 % (34 names); 眞 printed: 8–85 % (12 names).
- 邊 printed: under 0.1 % (28 names); 邉 printed (read 邊): 0.5–44 % in 10 of 12.

﨑, 濵 and 𠮷 are not in the dictionary at all: they are always read as 崎, 濱 and 吉.

The name still goes to a person (a variant letter always does, see `japanese.ambiguous_variants`): this only
makes the value shown to them the likelier form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .engine import Reading

# common form → (variant the recognizers fold into it, the readers' mean share of the variant that means it)
UNDER_READ = {"高": ("髙", 0.004), "真": ("眞", 0.02), "邊": ("邉", 0.01)}


def prefer_printed_variants(first: Sequence[Reading], second: Sequence[Reading]) -> tuple[list[Reading], list[Reading]]:
    """Both readers' lines of one name field, with 高/真 turned into 髙/眞 where the readers' mean share says so.

    The k-th 高 of one reader's line is taken to be the k-th 高 of the other's; where the other did not read it
    (a misread letter), the one reader decides.
    """
    out_first, out_second = [], []
    for a, b in zip(first, second, strict=True):
        a_shares, b_shares = _shares(a), _shares(b)
        decided: dict[tuple[str, int], bool] = {}
        for key in a_shares.keys() | b_shares.keys():
            shares = [s[key] for s in (a_shares, b_shares) if key in s]
            decided[key] = sum(shares) / len(shares) >= UNDER_READ[key[0]][1]
        out_first.append(_with_variants(a, decided))
        out_second.append(_with_variants(b, decided))
    return out_first, out_second


def _shares(r: Reading) -> dict[tuple[str, int], float]:
    """(letter, its occurrence) → the variant's share of the pair at that letter, for each under-read letter."""
    shares: dict[tuple[str, int], float] = {}
    seen: dict[str, int] = {}
    for i, ch in enumerate(r.text):
        if ch not in UNDER_READ or i >= len(r.alternatives):
            continue
        k = seen[ch] = seen.get(ch, -1) + 1
        probs = dict(r.alternatives[i])
        common, variant = probs.get(ch, 0.0), probs.get(UNDER_READ[ch][0], 0.0)
        shares[(ch, k)] = variant / (common + variant) if common + variant > 0 else 0.0
    return shares


def _with_variants(r: Reading, decided: dict[tuple[str, int], bool]) -> Reading:
    letters, seen = list(r.text), {}
    for i, ch in enumerate(letters):
        if ch in UNDER_READ:
            k = seen[ch] = seen.get(ch, -1) + 1
            if decided.get((ch, k)):
                letters[i] = UNDER_READ[ch][0]
    text = "".join(letters)
    return r if text == r.text else replace(r, text=text)
