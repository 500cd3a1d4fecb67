"""A detected line that runs labels and values together is cut at the form's wordings."""

from yomitori.classify.label_fallback import _char_norm, _wordings
from yomitori.classify.label_segments import Wordings, split_line

FORM = "kyuyo_shiharai_hokokusho"


def _even(text: str) -> tuple[float, ...]:
    return tuple((i + 0.5) / len(text) for i in range(len(text)))


def _parts(text: str, *, gaps: bool = True, wordings: Wordings | None = None):
    box = (10.0, 50.0, float(len(text)), 4.0)  # 1 mm a letter

    def gap(b, x):  # the scan's ink: a gap wherever the letters say one may be (or nowhere)
        return x if gaps else None

    return [(p.text, p.printed, round(p.box[0], 1)) for p in
            split_line(box, text, _even(text), wordings or _wordings(FORM, None), _char_norm, gap)]


def test_a_value_and_the_next_fields_label_become_two_parts_with_their_own_boxes():
    parts = _parts("4,754,719給与所得控除後の給与等の金額（円）")
    assert parts[0] == ("4,754,719", False, 10.0)
    assert parts[1][0].startswith("給与所得控除後") and parts[1][1] and parts[1][2] == 19.0


def test_a_row_of_labels_and_values_is_cut_at_every_label():
    texts = [t for t, printed, _ in _parts("電話番号044-251-0226") if not printed]
    assert texts == ["044-251-0226"]


def test_a_wording_run_on_into_writing_without_a_gap_stays_in_the_value():
    remark = "源泉徴収時所得税減税控除済額30,000円"
    assert _parts(remark, gaps=False) == [(remark, False, 10.0)]


def test_a_labels_misread_beginning_stays_with_the_label():
    # A fax's 住所（居所）又は所在地 read 住所（属）又所在地: 所在地 alone is a wording, the letters before it the rest.
    words = Wordings({"所在地", "住所居所又は所在地", "支払金額"})
    assert _parts("住所（属）又所在地", wordings=words) == [("住所（属）又所在地", False, 10.0)]


def test_a_line_without_letter_places_is_kept_whole():
    box = (0.0, 0.0, 20.0, 4.0)
    parts = split_line(box, "電話番号044", (), _wordings(FORM, None), _char_norm, lambda b, x: x)
    assert [p.text for p in parts] == ["電話番号044"]
