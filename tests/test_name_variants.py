"""A name printed with 髙, 邉, 﨑 or 𠮷 comes back with it, though both readers read the common form (﨑 and 𠮷 are
not even in their dictionary); 高 stays 高."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from yomitori.ocr.engine import Reading, get_engine
from yomitori.ocr.japanese import ambiguous_variants
from yomitori.ocr.name_variants import prefer_printed_variants

FONTS = [Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
         Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")]


OTHER_FORM = {"髙": "高", "高": "髙", "邉": "邊", "邊": "邉", "眞": "真", "真": "眞"}


def reading(text: str, alternatives: dict[int, dict[str, float]]) -> Reading:
    alts = tuple(tuple(alternatives.get(i, {ch: 0.99}).items()) for i, ch in enumerate(text))
    return Reading(text, 0.9, tuple(0.9 for _ in text), alts)


def test_the_readers_mean_share_of_the_variant_decides() -> None:
    faint = {0: {"高": 0.97, "髙": 0.02}}  # a printed 髙: a few percent
    none = {0: {"高": 0.999, "髙": 0.0001}}  # a printed 高
    a, b = prefer_printed_variants([reading("高橋 一郎", faint)], [reading("高橋 一郎", faint)])
    assert (a[0].text, b[0].text) == ("髙橋 一郎", "髙橋 一郎")
    a, b = prefer_printed_variants([reading("高橋 一郎", none)], [reading("高橋 一郎", none)])
    assert (a[0].text, b[0].text) == ("高橋 一郎", "高橋 一郎")
    # One reader's faint share is not enough when the other gives none (mean 0.0051 of 0.97+0.0102 vs 0.0001).
    a, _ = prefer_printed_variants([reading("高橋 一郎", {0: {"高": 0.99, "髙": 0.0002}})],
                                   [reading("高橋 一郎", {0: {"高": 0.99, "髙": 0.003}})])
    assert a[0].text == "高橋 一郎"


def test_each_occurrence_is_judged_on_its_own_and_a_misread_one_by_the_reader_that_has_it() -> None:
    first = reading("高田 高子", {0: {"高": 0.999, "髙": 0.0}, 3: {"高": 0.9, "髙": 0.08}})
    second = reading("高田 亮子", {0: {"高": 0.999, "髙": 0.0}})
    a, b = prefer_printed_variants([first], [second])
    assert a[0].text == "高田 髙子"
    assert b[0].text == "高田 亮子"


def render(text: str, face: Path) -> np.ndarray:
    if not face.exists():
        pytest.skip(f"font {face} missing (apt-get install fonts-ipafont fonts-noto-cjk)")
    font = ImageFont.truetype(str(face), 40)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right - left + 16, bottom - top + 16), 255)
    ImageDraw.Draw(img).text((8 - left, 8 - top), text, font=font, fill=0)
    return np.asarray(img)


@pytest.fixture(scope="module")
def readers():
    return get_engine("ppocr", model="ppocrv5", threads=1), get_engine("ppocr", model="ppocrv6", threads=1)


@pytest.mark.parametrize("face", FONTS, ids=lambda p: p.stem)
@pytest.mark.parametrize("printed", ["髙橋 一郎", "高橋 一郎", "渡邉 健", "渡邊 健", "眞鍋 礼子", "真鍋 礼子"])
def test_printed_names_come_back_in_the_form_printed(readers, face: Path, printed: str) -> None:
    line = [render(printed, face)]
    first, second = (r.recognize(line, ["any"]) for r in readers)
    a, b = prefer_printed_variants(first, second, line)
    assert a[0].text.replace(" ", "") == printed.replace(" ", "")
    letter = printed[0] if printed[0] in OTHER_FORM else printed[1]
    assert OTHER_FORM[letter] not in b[0].text  # the second reader may misread another letter (渡b健), not this one


def test_a_name_with_the_variant_is_flagged_and_one_with_the_common_form_of_a_told_apart_letter_is_not() -> None:
    assert ambiguous_variants("眞鍋 礼子") == ["眞"]
    assert ambiguous_variants("真鍋 礼子") == []  # the readers give 眞 a telling share: 真 alone is 真
    assert ambiguous_variants("髙橋 一郎") == ["髙"]
    assert ambiguous_variants("高橋 一郎") == ["高"]  # 髙's share is small: a person looks at every 高


# Noto Serif is one of the generator's held-out fonts: the letter model was never trained on it.
@pytest.mark.parametrize("face", FONTS, ids=lambda p: p.stem)
@pytest.mark.parametrize("printed", ["山﨑 舞", "山崎 舞", "宮﨑 優子", "濵田 進", "濱田 進", "惠子", "恵子"])
def test_letters_missing_from_the_dictionary_are_told_by_their_image(readers, face: Path, printed: str) -> None:
    line = [render(printed, face)]
    first, second = (r.recognize(line, ["any"]) for r in readers)
    assert "﨑" not in first[0].text and "濵" not in first[0].text  # the readers cannot read them
    a, _ = prefer_printed_variants(first, second, line)
    assert a[0].text.replace(" ", "") == printed.replace(" ", "")


@pytest.mark.parametrize("printed", ["𠮷田 直美", "吉田 直美"])
def test_yoshida_with_the_tsuchi_yoshi_comes_back_as_printed(readers, printed: str) -> None:
    face = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")  # IPA fonts lack 𠮷
    line = [render(printed, face)]
    first, second = (r.recognize(line, ["any"]) for r in readers)
    a, _ = prefer_printed_variants(first, second, line)
    assert a[0].text.replace(" ", "") == printed.replace(" ", "")


def test_a_letter_no_other_form_is_read_as_passes_and_one_that_hides_a_variant_is_flagged() -> None:
    assert ambiguous_variants("中島 明") == [] and ambiguous_variants("田辺 健") == []
    assert ambiguous_variants("斎藤 学") == ["藤"]  # 籐 is read 藤: 藤 is flagged, 斎 is not
    assert ambiguous_variants("渡邊 健") == ["邊"]  # 邉 is read 邊
    assert ambiguous_variants("冨田 進") == ["冨"] and ambiguous_variants("富田 進") == ["富"]


GROUPS_READ_AS_PRINTED = ["斎齋齊斉", "沢澤", "島嶋", "広廣", "国國", "辺邊邉", "浜濱"]


@pytest.mark.parametrize("face", FONTS, ids=lambda p: p.stem)
@pytest.mark.parametrize("group", GROUPS_READ_AS_PRINTED)
def test_no_printed_form_is_read_as_a_letter_that_passes(readers, face: Path, group: str) -> None:
    from yomitori.ocr.japanese import READ_AS_PRINTED

    for printed in group:
        lines = [render(context.format(printed), face) for context in ("{}田 一郎", "中{} 花子")]
        for reader in readers:
            for r in reader.recognize(lines, ["any", "any"]):
                read = [c for c in r.text if c in group]
                assert not read or read[0] == printed or read[0] not in READ_AS_PRINTED, (printed, r.text)
