"""Japanese post-processing of recognizer output: fix what context makes unambiguous, flag the rest.

PP-OCR's dictionary is mostly Chinese: it emits simplified or traditional forms that Japanese never
uses in these positions (徵 for 徴, 东 for 東), `·` for `・`, and dashes or 一 where katakana has ー.
Those are corrected. A name is different: 髙 and 高 are both Japanese and name different people,
so a name containing a character with such variants is flagged for a person, never changed.
"""

from __future__ import annotations

import re

from .variant_letters import PAIRS

# Forms never used in Japanese text → the Japanese form. Only pairs where the left side cannot be
# what was written on a Japanese form (names included) belong here.
CHINESE_TO_JAPANESE = str.maketrans({
    "徵": "徴", "东": "東", "书": "書", "门": "門", "长": "長", "发": "発", "经": "経", "县": "県",
    "关": "関", "铁": "鉄", "银": "銀", "乡": "郷", "马": "馬", "鸟": "鳥", "桥": "橋", "阳": "陽",
    "龙": "竜", "华": "華", "丰": "豊", "冈": "岡", "广": "広",
    "叶": "葉", "宫": "宮", "纪": "紀", "绿": "緑", "滨": "浜", "泽": "沢", "岛": "島", "荣": "栄",
    "贺": "賀", "爱": "愛", "仓": "倉", "见": "見", "园": "園", "丽": "麗", "务": "務", "样": "様",
    "边": "辺", "齐": "斉", "收": "収",
    "·": "・", "•": "・",
})

# Fields holding a person's or a company's name (not an address): 髙/高-style variants are checked there.
NAME_KEYS_SUFFIX = ("_name", "_representative", "contact_person", "accountant")

# Characters with a common and a variant form, both used in Japanese names (and the resident
# register keeps them apart). Reading one of these in a name needs a person's eye.
# The first of each group is the common form.
_VARIANT_GROUPS = ("高髙", "崎﨑嵜", "緑綠", "横橫", "静靜", "辺邊邉", "斎齋齊斉", "浜濵濱", "徳德", "沢澤", "島嶋嶌",
                   "桜櫻", "広廣", "国國", "竜龍", "恵惠", "栄榮", "円圓", "富冨", "吉𠮷", "槙槇", "蔵藏", "藤籐",
                   "増增", "穂穗", "黒黑", "覇霸", "奥奧")
NAME_VARIANTS: tuple[frozenset[str], ...] = tuple(frozenset(g) for g in _VARIANT_GROUPS)
_VARIANT_OF = {c: g for g in NAME_VARIANTS for c in g}
_COMMON_FORM = str.maketrans({c: g[0] for g in _VARIANT_GROUPS for c in g[1:]})

_KATAKANA = r"\u30A1-\u30FA"
_LONG_VOWEL_LOOKALIKES = re.compile(rf"(?<=[{_KATAKANA}ー])[一\-－‐−—―ｰ](?=[{_KATAKANA}ー]|$)")
_DIGIT_DASH = re.compile(r"(?<=\d)[‐−—―ー一－](?=\d)")
_KANJI = r"\u4E00-\u9FFF\u3005"
# The long-vowel mark only follows kana, so ー after a kanji is the kanji 一 (第一ビル read as 第ービル).
_ONE_AFTER_KANJI = re.compile(rf"(?<=[{_KANJI}])ー")
# Place names write the counter ケ between kanji (龍ケ崎, 緑ケ丘): Japan Post's data mostly uses the large ケ, and
# where it spells a name with ヶ (吉野ヶ里町) the place-name lexicon puts that back.
_KE_BETWEEN_KANJI = re.compile(rf"(?<=[{_KANJI}])ヶ(?=[{_KANJI}])")
# Old forms the recognizer (trained mostly on Chinese) reads for the Japanese form a payroll program prints in
# an address or a company name (増田薬局 read 增田薬局). In a person's name they stay: 德永 is a real name.
OLD_FORMS = {"綠": "緑", "橫": "横", "靜": "静", "增": "増", "惠": "恵", "穗": "穂", "德": "徳", "黑": "黒", "奧": "奥",
             "藥": "薬", "齒": "歯", "區": "区", "瀨": "瀬", "亞": "亜", "屬": "属", "霸": "覇", "藏": "蔵",
             "卷": "巻", "寬": "寛", "稻": "稲"}
_ADDRESS_VARIANTS = str.maketrans(OLD_FORMS)
# 丁目 between two block numbers: on a poor scan 目 loses or gains a stroke (日, 月, 自, H) and 丁 its hook or its
# top (T, J, 了, 厂, 下, Γ); between digits none of these pairs is a word.
_CHOME = re.compile(r"(?<=\d)\s*[丁TＴ下了厂JＪ亅Γ]\s*[目日月自HＨ](?=\s*\d)")
# A single katakana between kanji is the kanji it looks like (第ニビル → 第二ビル, 山ロ → 山口), and one of
# those kanji inside a katakana word is the katakana (口イヤル → ロイヤル), also first in a company's name after its
# entity word (株式会社工コー化学 → エコー). Only pairs that look alike.
_KATAKANA_TO_KANJI = {"ニ": "二", "ロ": "口", "エ": "工", "ハ": "八", "タ": "夕", "ト": "卜"}  # not カ: 三カ月
_KANJI_TO_KATAKANA = {v: k for k, v in _KATAKANA_TO_KANJI.items()}
_LONE_KATAKANA = re.compile(rf"(?<=[{_KANJI}])([{''.join(_KATAKANA_TO_KANJI)}])(?=[{_KANJI}]|$|\s)")
_KANJI_IN_KATAKANA = re.compile(
    rf"(?:(?<=[{_KATAKANA}ー])([{''.join(_KANJI_TO_KATAKANA)}])(?=[{_KATAKANA}ー]|$|\s))"
    rf"|(?:(?:(?<![{_KANJI}])|(?<=会社)|(?<=法人))([{''.join(_KANJI_TO_KATAKANA)}])(?=[{_KATAKANA}ー]{{2}}))"
)
# Between two kanji a point is the middle dot of a list (給料・賞与), never a decimal point.
_DOT_BETWEEN_KANJI = re.compile(rf"(?<=[{_KANJI}])[.．](?=[{_KANJI}])")
# A gap read beside a thousands comma is the comma's own white space (14 ,150円): a number has no space in it.
_SPACE_AT_COMMA = re.compile(r"(?<=\d)\s+(?=[,，]\d{3}(?!\d))|(?<=\d[,，])\s+(?=\d{3}(?!\d))")
# Yen amounts have no decimals: 30.000円 is 30,000円 with the comma read as a point.
_YEN_POINT = re.compile(r"(?<=\d)[.．](?=\d{3}(?:[,.．]\d{3})*円)")


def yen_commas(text: str) -> str:
    """30.000円 → 30,000円, 14 ,150円 → 14,150円."""
    return _SPACE_AT_COMMA.sub("", _YEN_POINT.sub(",", text))


# 第一ビル with its 一 read as a hyphen: 第 is an ordinal's, a number follows it.
_ORDINAL_ONE = re.compile(r"第[-－‐−—―](?=[^\d\-－‐−—―])")
# 令 read 合 before a year (合和7年4月): 合和 is no word.
_REIWA = re.compile(r"合和(?=\s*(?:\d|元))")


def fix_text(text: str) -> str:
    """Corrections that are right whatever the field: Chinese-only forms, katakana ー, digit hyphens,
    katakana/kanji look-alikes that the neighbours decide, yen amounts' commas."""
    text = text.translate(CHINESE_TO_JAPANESE)
    text = _LONG_VOWEL_LOOKALIKES.sub("ー", text)
    text = _small_after_vu(full_size_katakana(text))
    text = _KANJI_IN_KATAKANA.sub(lambda m: _KANJI_TO_KATAKANA[m[1] or m[2]], text)
    text = _ONE_AFTER_KANJI.sub("一", text)
    text = _LONE_KATAKANA.sub(lambda m: _KATAKANA_TO_KANJI[m[1]], text)
    text = text.replace("第ニ", "第二")  # an ordinal: 第二ビル
    text = _ORDINAL_ONE.sub("第一", text)
    text = _REIWA.sub("令和", text)
    text = yen_commas(text)
    text = _DOT_BETWEEN_KANJI.sub("・", text)
    return _DIGIT_DASH.sub("-", text)


# A building's Roman numeral after its katakana name, II read as I1 (ハイツII 505 → ハイツI1 505): a Latin I beside a
# digit is never a lot or room number. Read as the numeral Ⅱ and its second stroke again (コートⅡI 712号室), it is II.
_ROMAN_TWO = re.compile(rf"(?<=[{_KATAKANA}ー])(?:I1|1I|Il|lI|Ⅱ[IⅠl])(?=\d|\s|$)")
# Read as 11 against a three-digit room number (ヴィラII803号 → ヴィラ11803号): a room number has at most four digits.
_ROMAN_TWO_READ_ELEVEN = re.compile(rf"(?<=[{_KATAKANA}ー])11(?=\d{{3}}(?:号|\s|$))")
# No space inside a lot number: 11 番10号, 2- 18-18 (a gap the recognizer read between two of its glyphs).
_SPACE_IN_LOT = re.compile(r"(?<=\d)\s+(?=[番号丁\-])|(?<=[番目\-])\s+(?=\d)")


# A room number's 号 read as リ at the end of an address (レジデンス101リ): no katakana word is a lone リ after digits.
_GO_READ_RI = re.compile(r"(?<=\d)リ$")


def fix_address(text: str) -> str:
    """Addresses: 丁目, lot numbers' spaces, a building's II, the place-name ケ and the Japanese forms of old ones."""
    text = _SPACE_IN_LOT.sub("", _CHOME.sub("丁目", text))
    text = _GO_READ_RI.sub("号", _ROMAN_TWO_READ_ELEVEN.sub("II", _ROMAN_TWO.sub("II", text)))
    return _KE_BETWEEN_KANJI.sub("ケ", fix_company_name(text))


def fix_company_name(text: str) -> str:
    """The Japanese forms of old ones (a company name with a variant still goes to review: see ambiguous_variants)."""
    return text.translate(_ADDRESS_VARIANTS)


# Small kana only follow certain kana: ャュョ an い-row one (キャ, シュ), ァィゥェォ one of フ, ウ, テ, デ,
# チ, シ, ジ, ツ, ヴ, ク, グ, ト, ド (ファ, ウィ, ティ); ッ doubles a consonant (ハットリ, ベップ), so it never ends
# a word or precedes a vowel, ン, ー or a ナ/マ/ヤ/ラ/ワ-row kana.
# A small kana anywhere else is the full-size kana the recognizer shrank.
_SMALL_TO_FULL = str.maketrans("ァィゥェォャュョッ", "アイウエオヤユヨツ")
_I_ROW = set("キシチニヒミリギジビピヂ")
_BEFORE_SMALL_VOWEL = set("フウテデチシジツヴクグトド")
_NOT_AFTER_SOKUON = set(" アイウエオンーナニヌネノマミムメモヤユヨラリルレロワヲ")


def fix_kana(text: str) -> str:
    """Full-size kana where a small one cannot stand (a reading field: names in katakana); a lone ー (a stroke of
    the box or of a seal, read as its own word: コバヤシ チナツ ー) dropped."""
    return full_size_katakana(" ".join(w for w in text.split(" ") if w.strip("ー－-‐—―")))


def full_size_katakana(text: str) -> str:
    """Each small katakana where none can stand made full size; a neighbour that is no katakana (a kanji, a digit,
    a space) counts as a word's edge: 法人ェコー → 法人エコー, ハィッ11 → ハイツ11."""
    out: list[str] = []
    for i, ch in enumerate(text):
        prev = text[i - 1] if i and _is_katakana(text[i - 1]) else " "
        nxt = text[i + 1] if i + 1 < len(text) and _is_katakana(text[i + 1]) else " "
        if (ch in "ャュョ" and prev not in _I_ROW) or (ch in "ァィゥェォ" and prev not in _BEFORE_SMALL_VOWEL):
            ch = ch.translate(_SMALL_TO_FULL)
        elif ch == "ッ" and (nxt.translate(_SMALL_TO_FULL) in _NOT_AFTER_SOKUON or prev == " "):
            ch = "ツ"
        out.append(ch)
    return "".join(out)


# ヴ with a full-size vowel after it is the small one shrunk no more (ヴイラ for ヴィラ): ヴィ, ヴェ, ヴォ, ヴァ are
# how loanwords write the sounds, and no word writes ヴイ.
_VU_FULL_VOWEL = re.compile("ヴ([アイエオ])")
_SMALL_VOWEL = str.maketrans("アイエオ", "ァィェォ")


def _small_after_vu(text: str) -> str:
    return _VU_FULL_VOWEL.sub(lambda m: "ヴ" + m[1].translate(_SMALL_VOWEL), text)


def _is_katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fa" or ch == "ー"


# 眞 is a variant the readers fold into 真 but give a telling share (see name_variants): a name is flagged when
# they read 眞, not for every 真 (真理子 is common, and a printed 真 never gave 眞 a share).
_FLAGGED_ONLY_AS_VARIANT = {"眞"}


# Letters of variant groups that no other form of their group is ever read as: reading one is unambiguous. Measured
# by rendering every form of every group in the generator's nine fonts, six name contexts, clean and scanned, read
# by both readers (216 readings a form): no printed 齋, 齊 or 斉 was read 斎 (nor any of them as another), no 澤 as
# 沢, 嶋 as 島, 櫻 as 桜, 廣 as 広, 國 as 国, 龍 as 竜, 榮 as 栄, 圓 as 円, 槇 as 槙 (nor the other way), no 邊 or 邉
# as 辺, no 濱 or 濵 as 浜. Not 藤: a printed 籐 was read 藤 89 times in 216; nor 富 (冨 read 富 132 times), 邊 (邉),
# 濱 (濵), and the old forms the readers fold both ways (横/橫, 奥/奧 …).
READ_AS_PRINTED = frozenset("斎齋齊斉沢澤島嶋桜櫻広廣国國竜龍栄榮円圓槙槇辺浜")


def ambiguous_variants(text: str) -> list[str]:
    """Characters of a name that have variant forms a recognizer may have folded together."""
    return [c for c in text
            if (c in _VARIANT_OF and c not in READ_AS_PRINTED) or c in _FLAGGED_ONLY_AS_VARIANT]


# The old forms a recognizer trained on Chinese reads for the Japanese letter, whatever was printed (増田 read 增田):
# in a name the common form is the better guess, and the letter's variants send the name to a person all the same.
# Not 黑 and 德: both readers tell them apart (on 1,440 calibration pages a printed 黒 or 徳 never read as the old
# form, a printed 黑 or 德 always did). Not 惠 either: the letter model (`variant_letters`) has decided it.
_TOLD_APART = "黑德" + "".join(PAIRS.values())
_NAME_OLD_FORMS = str.maketrans({old: new for old, new in OLD_FORMS.items()
                                 if old in _VARIANT_OF and old not in _TOLD_APART})


def common_name_forms(name: str) -> str:
    """增田 → 増田 in a person's name, only for letters `ambiguous_variants` flags (so never silently)."""
    return name.translate(_NAME_OLD_FORMS)


def standard_forms(text: str) -> str:
    """Each variant letter in its common form (髙橋 → 高橋): for looking a name up, never for the value."""
    return text.translate(_COMMON_FORM)
