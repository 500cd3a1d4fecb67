"""The benchmark's scoring: what it counts right, and how it breaks accuracy down."""

from __future__ import annotations

from yomitori.bench import score
from yomitori.extract import PageResult
from yomitori.forms_templates import templates
from yomitori.ocr.fields import FieldResult


def _page(source: str, values: dict[str, object], review: bool = False) -> PageResult:
    fields = {k: FieldResult(k, v, 0.99, review) for k, v in values.items()}
    return PageResult(source, [1], "kyuyo_soukatsuhyo", "national", fields=fields)


def test_accuracy_is_broken_down_by_writing_and_fax_and_the_gate_counts_what_it_let_through():
    keys = [f.key for f in templates()["kyuyo_soukatsuhyo/national"].fields]
    truth = dict.fromkeys(keys)
    truth.update({"payer_name": "株式会社山田商店", "payer_address": "東京都千代田区霞が関1丁目1番1号"})
    meta = {"form": "kyuyo_soukatsuhyo", "layout": "national", "font": "ipa-mincho"}
    truths = {
        "fax.tif": {**meta, "source": "fax.tif", "hand": False, "fax": True, "truth": truth},
        "scan.png": {**meta, "source": "scan.png", "hand": False, "fax": False, "truth": truth},
    }
    misread = {**truth, "payer_name": "株式会社山田商居"}
    s = score([_page("fax.tif", misread), _page("scan.png", truth)], truths)
    assert s.by_scan["print, fax"].rate == 0.5 and s.by_scan["print, scan"].rate == 1.0
    assert s.by_writing["print"].rate == 0.75
    gate = s.gate["all"].rates()
    assert gate["wrong"] == 1 and gate["straight_wrong"] == 1 and gate["wrong_caught"] == 0.0
    assert s.errors[0]["field"] == "payer_name" and s.errors[0]["got"] == "株式会社山田商居"
