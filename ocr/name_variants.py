"""Which form of a variant letter a name was printed in (髙橋 or 高橋), judged from both readers' probabilities.

PP-OCR's dictionary has 髙, 眞 and 邉, but the models saw them rarely: on a printed 髙 both still read 高 and
give 髙 a small share, where on a printed 高 they give it almost none. Measured on generated calibration and tuning
pages (the two readers' mean share of the variant at the letter):

- 高 printed: under 0.2 % (126 names); 髙 printed: 0.4–16 % in 31 of 35 (the other 4 gave it nothing).
- 真 printed: under 0.05 % (34 names); 眞 printed: 8–85 % (12 names).
- 邊 printed: under 0.1 % (28 names); 邉 printed (read 邊): 0.5–44 % in 10 of 12.

﨑, 濵 and 𠮷 are not in the dictionary at all: they are always read as 崎, 濱 and 吉. For those, and for 髙 and
惠, the letter's image decides (`variant_letters`: a small CNN looking where the recognizer put the letter); the
shares decide 眞 and 邉, and 髙 when the reader gave no letter positions.

The name still goes to a person (a variant letter always does, see `japanese.ambiguous_variants`): this only
makes the value shown to them the likelier form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from . import variant_letters
from .engine import Reading

# common form → (variant the recognizers fold into it, the readers' mean share of the variant that means it)
UNDER_READ = {"高": ("髙", 0.004), "真": ("眞", 0.02), "邊": ("邉", 0.01)}


# letter (either form) → (common form, variant): the letters whose form is decided here
_PAIR_OF = {c: (common, variant) for common, (variant, _) in UNDER_READ.items() for c in (common, variant)}
_PAIR_OF |= {c: pair for pair in variant_letters.PAIRS.items() for c in pair}
_PAIR_OF |= {c: (common, variant_letters.PAIRS[common]) for c, common in variant_letters.MISREAD_AS.items()}


def prefer_printed_variants(first: Sequence[Reading], second: Sequence[Reading],
                            images: Sequence[np.ndarray] | None = None) -> tuple[list[Reading], list[Reading]]:
    """Both readers' lines of one name field, each pair letter (崎/﨑, 高/髙 …) in the form its image or the
    readers' shares say was printed.

    The k-th 崎 of one reader's line is taken to be the k-th of the other's; where the other did not read it
    (a misread letter), the one reader decides.
    """
    out_first, out_second = [], []
    for j, (a, b) in enumerate(zip(first, second, strict=True)):
        a_shares, b_shares = _shares(a), _shares(b)
        decided: dict[tuple[str, int], bool] = {}
        for key in a_shares.keys() | b_shares.keys():
            shares = [s[key] for s in (a_shares, b_shares) if key in s]
            decided[key] = sum(shares) / len(shares) >= UNDER_READ[key[0]][1]
        if images is not None:
            decided |= _judged_by_image(a, b, images[j])
        out_first.append(_with_variants(a, decided))
        out_second.append(_with_variants(b, decided))
    return out_first, out_second


def _judged_by_image(a: Reading, b: Reading, image: np.ndarray) -> dict[tuple[str, int], bool]:
    """(common form, occurrence) → whether the letter model sees the variant, both readers' views averaged."""
    seen: dict[tuple[str, int], list[float]] = {}
    for r in (a, b):
        for i, share in variant_letters.judged(r, image).items():
            common = _PAIR_OF[r.text[i]][0]
            k = sum(_PAIR_OF.get(c, ("",))[0] == common for c in r.text[:i])
            seen.setdefault((common, k), []).append(share)
    return {key: sum(s) / len(s) >= variant_letters.VARIANT_AT for key, s in seen.items()}


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
        if ch in _PAIR_OF:
            common, variant = _PAIR_OF[ch]
            k = seen[common] = seen.get(common, -1) + 1
            if (common, k) in decided:
                letters[i] = variant if decided[(common, k)] else common
    text = "".join(letters)
    return r if text == r.text else replace(r, text=text)
