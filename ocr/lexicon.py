"""Lexicon corrections: one misread character in a place name or a legal-entity word is put right when
exactly one real name is within one edit of what was read.

Place names come from Japan Post's data (`yomitori.places`): prefecture → municipality → 町域. Only a
unique candidate is taken, and a name that is already real is never touched, so an unknown but real
town stays as read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache

from yomitori.places import gazetteer, municipalities, municipality_of
from yomitori.validation.field_checks import CHOME_WITHOUT_NUMBER
from yomitori.validation.postal import postal_places

from .japanese import NAME_KEYS_SUFFIX, OLD_FORMS, standard_forms, yen_commas

# Words of company names and titles that payroll forms print again and again (法人格, 事務所, 役職).
ENTITY_WORDS = (
    "株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "社会福祉法人", "医療法人社団", "医療法人財団",
    "医療法人", "一般社団法人", "一般財団法人", "公益社団法人", "公益財団法人", "特定非営利活動法人", "学校法人",
    "宗教法人", "税理士法人", "弁護士法人", "税理士事務所", "会計事務所", "法律事務所", "司法書士事務所",
    "社会保険労務士", "行政書士", "代表取締役", "取締役社長", "代表社員", "代表理事", "事務所",
)
# A letter read this surely is not what a lexicon may overrule.
SURE_LETTER = 0.98
_BOUNDARY = re.compile(r"[\d０-９丁番号字大\-－ー‐]")


def one_edit(a: str, b: str) -> bool:
    """Whether a and b differ by exactly one substitution, insertion or deletion."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1 :]


# An entity word with a gap read inside it (合 同会社信和設計: a handwritten gap taken for a space).
_SPACED_ENTITY_WORD = re.compile("|".join(r"\s*".join(w) for w in sorted(ENTITY_WORDS, key=len, reverse=True)))


def fix_entity_words(text: str, confidences: Sequence[float] = ()) -> str:
    """社会福社法人 → 社会福祉法人, 税理上事務所 → 税理士事務所: one substitution in a word of four or more; and no
    space inside such a word.

    `confidences` (one per character of `text` other than spaces) keep a character the recognizer was
    sure of: 設計事務所 is a real word one letter from 会計事務所, and its 設 was read at 0.99.
    """
    text = _SPACED_ENTITY_WORD.sub(lambda m: "".join(m[0].split()), text)  # spaces only: confidences still align
    return _fix_words(text, ENTITY_WORDS, _sure_positions(text, confidences), lambda n: 1)


# The 摘要's set phrases, in the wording the 国税庁's instructions for the 給与支払報告書 prescribe.
REMARK_PHRASES = (
    "源泉徴収時所得税減税控除済額", "控除外額", "非控除対象配偶者減税有", "前職分", "支払金額", "社会保険料",
    "源泉徴収税額", "年末調整未済", "住宅借入金等特別控除可能額", "居住開始年月日", "国民年金保険料等の金額",
    "基礎控除の額に相当する金額", "所得金額調整控除額", "同一生計配偶者", "非居住者である親族の数", "退職",
)
# The 定額減税 note lists its two amounts: 「…控除済額30,000円、控除外額0円」.
_BEFORE_EXCLUDED = re.compile(r"(?<=円)[\s,，.．]*(?=控除外額)")
# The 前職分 note spaces its items: 「前職分 支払金額…円 社会保険料…円 源泉徴収税額…円 …」; a half-width space
# between 円 and the next item is narrower than a word gap and often lost.
_BEFORE_PRIOR_JOB_ITEM = re.compile(r"(?<=円)[\s、,，.．]*(?=社会保険料|源泉徴収税額)")
# An amount's 円 read as 1 (30,0001、控除外額, 支払金額3,382,5691 社会保険料): a thousands group has three digits,
# so a fourth, 1, before anything but a digit or a 円 is the 円.
_YEN_READ_ONE = re.compile(r"(?<=\d[,，]\d{3})1(?![\d円])|(?<=\d[.．]\d{3})1(?=[\s、,，]*控除外額)")
# A phrase this long that a window misses by a letter or two is that phrase, however sure the recognizer was of the
# wrong letter (a fax's 源 read 原 at 0.99: 原泉徴収 is no word).
LONG_PHRASE = 10


# The 定額減税 note's last amount, 0円, with its 円 read as 1: no amount is written with a leading 0.
_ZERO_YEN_READ_ONE = re.compile(r"(?<=額)0[1l](?=$|\s|、)")


def fix_remarks(text: str, confidences: Sequence[float] = ()) -> str:
    """源泉徴收時听得税減税… → 源泉徴収時所得税減税…: a set phrase with up to one letter in six misread."""
    sure = _sure_positions(text, confidences)
    long = [p for p in REMARK_PHRASES if len(p) >= LONG_PHRASE]
    text = _fix_words(text, long, set(), lambda n: max(1, n // 6))
    text = _fix_words(text, [p for p in REMARK_PHRASES if p not in long], sure, lambda n: max(1, n // 6))
    text = yen_commas(_ZERO_YEN_READ_ONE.sub("0円", _YEN_READ_ONE.sub("円", text)))
    return _BEFORE_PRIOR_JOB_ITEM.sub(" ", _BEFORE_EXCLUDED.sub("、", text))


def _fix_words(text: str, words: Sequence[str], sure: set[int], budget: Callable[[int], int]) -> str:
    """Each word of four or more letters that a window of `text` misses by at most `budget(len)` substitutions,
    none of them at a sure position, is put in."""
    known = set(words)
    for word in sorted(words, key=len, reverse=True):
        if word in text or len(word) < 4:
            continue
        n = len(word)
        for i in range(len(text) - n + 1):
            window = text[i : i + n]
            # A window that is another known word is that word (合同会社 is no misread 合名会社).
            if " " in window or window in known or not _shares_ends(window, word):
                continue
            changed = [k for k in range(n) if window[k] != word[k]]
            if len(changed) <= budget(n) and not any(i + k in sure for k in changed):
                text = text[:i] + word + text[i + n :]
                break
    return text


# How the 明細書's 種別 is written; the ・ between two words is small and often lost to a scan.
PAYMENT_TYPES = ("給料・賞与", "給与・賞与", "給料・手当・賞与", "給与・手当・賞与", "役員報酬・賞与")


def fix_payment_type(text: str) -> str:
    """給料賞与 → 給料・賞与, 給与・賞午 → 給与・賞与: the one known 種別 within a letter of what was read, with
    the ・ a scan lost put back. A tie (給午・賞与: 給与 or 給料?) and anything else is left as read."""
    bare = _bare(text)
    if len(bare) < 4:
        return text
    if len(bare) == 4 and bare[0] == "給" and bare[2] == "賞" and bare[1] == bare[3] != "料":
        return "給与・賞与"  # one letter misread alike twice (給字・賞字): 与 is the only letter both words share
    by_distance: dict[int, list[str]] = {}
    for t in PAYMENT_TYPES:
        known = _bare(t)
        if len(known) == len(bare):
            by_distance.setdefault(sum(a != b for a, b in zip(known, bare, strict=True)), []).append(t)
    for d in (0, 1):
        if by_distance.get(d):
            return by_distance[d][0] if len(by_distance[d]) == 1 else text
    return text


def _bare(text: str) -> str:
    return re.sub(r"[・･·,，、.．\s]", "", text)


def _sure_positions(text: str, confidences: Sequence[float]) -> set[int]:
    letters = [i for i, ch in enumerate(text) if ch != " "]
    if len(letters) != len(confidences):  # post-processing changed the length: judge by the text alone
        return set()
    return {i for i, c in zip(letters, confidences, strict=True) if c >= SURE_LETTER}


def _shares_ends(a: str, b: str) -> bool:
    # A substitution inside the word, not at its edge: 有限会社 must not eat the 社 of a following 社名.
    return a[0] == b[0] or a[-1] == b[-1]


def fix_municipality(text: str) -> str:
    """A municipality's name alone (あて先 市区町村): 烏羽市 → 鳥羽市, 茅ケ崎市 → 茅ヶ崎市; no space in it (a hand
    that spaced its letters widely: 三 浦 市)."""
    text = re.sub(r"\s+", "", text)
    if len(text) < 3 or text in municipalities():
        return text
    spelt = next((m for m in _municipalities_by_suffix(text[-1]) if _same_ke(m) == _same_ke(text)), None)
    if spelt:
        return spelt
    found = [m for m in _municipalities_by_suffix(text[-1]) if one_edit(text, m)]
    return found[0] if len(found) == 1 else text


@cache
def _municipalities_by_suffix(last: str) -> tuple[str, ...]:
    return tuple(m for m in municipalities() if m.endswith(last))


def fix_place_names(address: str) -> str:
    """Prefecture, municipality and 町域 of an address, each corrected when one real name is one edit away."""
    prefecture, rest = _prefecture(address)
    if prefecture is None:
        return address
    city, rest = _city(prefecture, rest)
    if city is None:
        return prefecture + rest
    town = _town(prefecture, city[0], rest)
    return prefecture + city[1] + town


def _prefecture(text: str) -> tuple[str | None, str]:
    names = gazetteer().keys()
    for p in names:
        if text.startswith(p):
            return p, text[len(p) :]
    found = [p for p in names if len(p) >= 3 and one_edit(text[: len(p)], p) and len(text[: len(p)]) == len(p)]
    return (found[0], text[len(found[0]) :]) if len(found) == 1 else (None, text)


@cache
def _city_forms(prefecture: str) -> dict[str, str]:
    """Each way an address may write a city (with or without 郡; 政令市 with its ward) → Japan Post's name."""
    forms: dict[str, str] = {}
    for city in gazetteer()[prefecture]:
        forms[city] = city
        short = municipality_of(prefecture, city)
        if short != city and not re.fullmatch(r".+市", short):  # 政令市 alone would hide the ward
            forms.setdefault(short, city)
    return forms


def _same_ke(text: str) -> str:
    """ケ and ヶ are one letter to a reader; a place name is spelt as Japan Post spells it (龍ケ崎市, 吉野ヶ里町)."""
    return text.replace("ヶ", "ケ")


def _city(prefecture: str, rest: str) -> tuple[tuple[str, str] | None, str]:
    """((Japan Post's city, as written), rest), the longest name winning; or a unique near miss."""
    forms = _city_forms(prefecture)
    folded = _same_ke(rest)
    exact = [f for f in forms if folded.startswith(_same_ke(f))]
    if exact:
        f = max(exact, key=len)
        return (forms[f], f), rest[len(f) :]
    found: dict[str, tuple[str, int]] = {}
    for f, city in forms.items():
        if len(f) < 3:
            continue
        for n in (len(f) - 1, len(f), len(f) + 1):
            if one_edit(rest[:n], f):
                found[f] = (city, n)
    if len(found) > 1:  # 三川市 is one edit from 三木市 and 三田市: the 町域 that follows knows which (すずかけ台)
        found = {f: (city, n) for f, (city, n) in found.items() if _names_town(prefecture, city, rest[n:])}
    if len(found) == 1:
        (f, (city, n)), = found.items()
        return (city, f), rest[n:]
    return None, rest


def _names_town(prefecture: str, city: str, rest: str) -> bool:
    """Whether `rest` begins with one of the city's 町域 as Japan Post spells it."""
    towns = gazetteer()[prefecture].get(city, frozenset())
    return any(rest.startswith(t := town.removeprefix("大字")) and _ends_at_boundary(rest, len(t)) for town in towns)


# Thin letters the recognizer drops between kanji, taking them for a stroke or a gap (上ノ庄町 read 上庄町).
_THIN_LETTERS = frozenset("ノのヶケ之")
# What else may follow a town as written: a block number in kanji (日野本町三丁目), a space before a building.
_AFTER_TOWN = frozenset("一二三四五六七八九十〇 　、(（")


def _town(prefecture: str, city: str, rest: str) -> str:
    towns = gazetteer()[prefecture].get(city, frozenset())
    names = {t.removeprefix("大字") for t in towns} | set(towns)
    # A town ends where the block number or a 字 begins: one followed by more of a name may be a shorter town
    # inside a misread longer one (日野本町 read 日野木町, and 日野 is a town of its own).
    if not names or any(rest.startswith(t) and _ends_at_boundary(rest, len(t)) for t in names):
        return rest
    # A place name is written in one form; an old or variant form read (德, 澤) is that name.
    folded = _same_ke(standard_forms(rest))
    same = [t for t in names if folded.startswith(_same_ke(standard_forms(t))) and _ends_at_boundary(rest, len(t))]
    if same:
        t = max(same, key=len)
        return t + rest[len(t) :]
    found = _near_towns(names, rest)
    if len({t for t, _ in found}) > 1:  # a tie is settled only by a thin letter the reading dropped
        found = {(t, n) for t, n in found if len(t) == n + 1 and _dropped_thin_letter(rest[:n], t)}
    if len({t for t, _ in found}) == 1:
        t, n = min(found, key=lambda tn: abs(tn[1] - len(tn[0])))
        return t + rest[n:]
    return rest


def _ends_at_boundary(rest: str, n: int) -> bool:
    return len(rest) == n or bool(_BOUNDARY.match(rest[n])) or rest[n] in _AFTER_TOWN


def _near_towns(names: set[str], rest: str) -> set[tuple[str, int]]:
    """(town, letters of `rest` it replaces) for each town one edit from the start of `rest`, ending at a boundary."""
    found = set()
    for t in names:
        if len(t) < 2:
            continue
        for n in (len(t) - 1, len(t), len(t) + 1):
            # n may exceed what is left (the reading ends inside the town name): no such reading then.
            if (2 <= n <= len(rest) and one_edit(rest[:n], t) and (len(rest) == n or _BOUNDARY.match(rest[n])) and
                    (len(t) >= 3 or n == len(t))):
                found.add((t, n))
    return found


def _dropped_thin_letter(read: str, town: str) -> bool:
    i = next((k for k in range(len(read)) if read[k] != town[k]), len(read))
    return town[i] in _THIN_LETTERS and read[i:] == town[i + 1 :]


# Letters no address, name or 種別 is written with: a reading that has one broke a letter into marks (三 → :).
_STRAY = re.compile(r"[:;|!?_~^<>{}\[\]\\]")
# 給与の支払期間 as the 総括表 asks for it: 1月分から12月分まで (月分か512月分 lost a letter).
_PAYROLL_PERIOD = re.compile(r"\d{1,2}月分から\d{1,2}月分(まで)?")
# A Latin letter between two digits of a lot number is a broken 丁目 or 番 (1丁目18 read 15H118); so is a 丁 after
# a block number without its 目 (2丁目13番 read 2丁113番).
_LETTER_IN_NUMBER = re.compile(r"(?<=\d)[A-Za-zＡ-Ｚ](?=\d)|(?<=\d)丁(?!目)")


# The kanji a katakana word's letters are read as at its edges: 工 for its first エ, 一 for its last ー (工コ一協会).
_KANJI_AT_KATAKANA = re.compile(r"工(?=[\u30a1-\u30fa])|(?<=[\u30a1-\u30fa])一")


def plausibility(key: str, text: str) -> int:
    """How many checks of its kind a text field's reading passes: the names of an address that Japan Post
    knows as read, a known 種別 or the 支払期間's form, a postal code that exists, no stray marks, no old letter
    forms in a name (橫山, 增田: a variant the name really has still goes to review). Two readers that disagree are
    judged by it first."""
    score = -len(_STRAY.findall(text)) - len(_KANJI_AT_KATAKANA.findall(text))
    if key.endswith(NAME_KEYS_SUFFIX):  # an old form is rarer in a name than the recognizer's taste for it
        score -= sum(ch in OLD_FORMS for ch in text)
    if key == "payment_type":
        score += text in PAYMENT_TYPES
    elif key == "payroll_period":
        score += bool(_PAYROLL_PERIOD.fullmatch(text))
    elif key.endswith("postal_code"):
        score += postal_places(text) is not None  # 160-0074 for 760-0074: no such code
    elif "address" in key:
        score += _known_levels(text) - len(CHOME_WITHOUT_NUMBER.findall(text)) - len(_LETTER_IN_NUMBER.findall(text))
    return score


def _known_levels(address: str) -> int:
    """0–3: whether the prefecture, the municipality and the 町域 are, as read, names Japan Post knows."""
    prefecture = next((p for p in gazetteer() if address.startswith(p)), None)
    if prefecture is None:
        return 0
    rest = address[len(prefecture) :]
    forms = _city_forms(prefecture)
    city = max((f for f in forms if rest.startswith(f)), key=len, default=None)
    if city is None:
        return 1
    return 3 if _names_town(prefecture, forms[city], rest[len(city) :]) else 2
