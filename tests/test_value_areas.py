"""Which writing is a label's value on a row of label boxes (pure geometry, no OCR)."""

import numpy as np

from yomitori.classify.label_fallback import Detected, _owner, _up_to_labels
from yomitori.ocr.preprocess import PX_PER_MM


def _page_with_writing(*boxes):
    page = np.zeros((round(100 * PX_PER_MM), round(200 * PX_PER_MM)), bool)
    for x, y, w, h in boxes:
        x0, y0, x1, y1 = (round(v * PX_PER_MM) for v in (x, y, x + w, y + h))
        page[y0:y1, x0:x1] = True
    return page


def test_writing_after_another_label_on_its_row_is_that_labels_value():
    # 支給総額 [row 10]; below it the row 所得控除合計 1,742,662: the cell under 支給総額 holds the other's amount.
    own = Detected((60.0, 10.0, 20.0, 5.0), "支給総額")
    other = Detected((5.0, 20.0, 20.0, 5.0), "所得控除合計")
    written = _page_with_writing((40.0, 20.5, 25.0, 4.0))
    under = (30.0, 19.5, 120.0, 6.0)
    assert _owner(written, under, [own, other]) is other
    # On its own row, the value follows its own label.
    beside = (85.0, 9.5, 60.0, 6.0)
    assert _owner(_page_with_writing((100.0, 10.5, 25.0, 4.0)), beside, [own, other]) is own


def test_a_long_row_cell_is_a_fields_up_to_the_next_label_on_it():
    phone = Detected((150.0, 10.0, 14.0, 5.0), "電話番号")
    row = (48.0, 9.5, 140.0, 6.0)
    assert _up_to_labels(row, [phone]) == (48.0, 9.5, 150.0 - 0.5 - 48.0, 6.0)
    assert _up_to_labels(row, [Detected((49.0, 10.0, 14.0, 5.0), "電話番号")]) is None  # the other label's cell
    assert _up_to_labels(row, []) == row
