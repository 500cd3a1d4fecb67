"""More evidence a matched master record gives the gate: a 個人事業主 employer (no 法人番号, often no 指定番号) found by
its name and 所在地 together, the matched recipient on its 特別徴収 roll; a second reading equal to the master's; and
`yomitori bench-masters`' breakdown of what still goes to review."""

from __future__ import annotations

from test_masters import HMAC, MY_NUMBER, _f, _index, _meisai

from yomitori.masters.gate import apply_master
from yomitori.masters.matching import MasterIndex
from yomitori.masters.records import Employer, RollEntry

SOLE = Employer("00077777", None, "渡邊整骨院", "東京都新宿区西新宿2丁目8番1号", "03-3333-4444")


def _with(*employers: Employer, roll: tuple[RollEntry, ...] = ()) -> MasterIndex:
    base = _index()
    return MasterIndex(base.residents, [*base.employers, *employers],
                       [RollEntry("00012345", "A001"), *roll])


def test_a_sole_proprietor_is_matched_by_name_and_address_and_its_variant_name_comes_back():
    # A 個人事業主 prints its owner's 個人番号 (12 digits) as 支払者番号 and no 指定番号: only name and 所在地 say who.
    fields = _meisai(payer_number="555566667777", payer_name="渡辺整骨院", payer_address=SOLE.address,
                     payer_phone=SOLE.phone)
    out = apply_master("kyuyo_shiharai_hokokusho", fields, _with(SOLE), hmac_of=HMAC)
    assert out.employer is not None and out.employer.by == "name_address"
    assert fields["payer_name"].value == "渡邊整骨院" and not fields["payer_name"].review  # the master's characters
    assert not fields["payer_address"].review
    assert fields["payer_number"].review  # a 12-digit number is a person's 個人番号: never matched nor passed


def test_the_recipient_on_the_employers_roll_is_one_more_agreeing_item():
    # No phone printed: name and address agree with each other only; the roll naming the matched recipient makes two.
    read = dict(payer_number="555566667777", payer_name="渡邊整骨院", payer_address=SOLE.address, payer_phone=None)
    off_roll = _meisai(**read)
    out = apply_master("kyuyo_shiharai_hokokusho", off_roll, _with(SOLE), hmac_of=HMAC)
    assert out.employer is not None and "roll" not in out.employer.evidence and off_roll["payer_name"].review
    on_roll = _meisai(**read)
    out = apply_master("kyuyo_shiharai_hokokusho", on_roll, _with(SOLE, roll=(RollEntry("00077777", "A001"),)),
                      hmac_of=HMAC)
    assert out.employer.evidence["roll"] == "equal"
    assert not on_roll["payer_name"].review and not on_roll["payer_address"].review


def test_two_employers_of_one_name_at_one_address_are_no_match():
    twin = Employer("00088888", None, SOLE.name, SOLE.address, "03-9999-0000")
    fields = _meisai(payer_number="555566667777", payer_name=SOLE.name, payer_address=SOLE.address,
                     payer_phone=SOLE.phone)
    out = apply_master("kyuyo_shiharai_hokokusho", fields, _with(SOLE, twin), hmac_of=HMAC)
    assert out.employer is None and fields["payer_name"].review and fields["payer_address"].review


def test_a_second_reading_equal_to_the_masters_gives_the_masters_value():
    # The first reader saw パークハイツ川, the second パークハイツII as the master has it: the master's value.
    master = "東京都千代田区霞が関2丁目1番2号"
    fields = _meisai(recipient_address="東京都千代田区霞が関2丁目1番2弓")
    f = fields["recipient_address"]
    f.second, f.agreement = master, False
    out = apply_master("kyuyo_shiharai_hokokusho", fields, _index(), hmac_of=HMAC)
    assert f.value == master and not f.review and f.second == "東京都千代田区霞が関2丁目1番2弓"
    assert out.person.evidence["address"] == "second"
    # Without the second reader's agreement with the master it stays a difference, for a person, master offered.
    alone = _meisai(recipient_address="東京都千代田区霞が関2丁目1番2弓")
    out = apply_master("kyuyo_shiharai_hokokusho", alone, _index(), hmac_of=HMAC)
    assert alone["recipient_address"].review and out.candidates["recipient_address"] == master
    # A weak match (no 個人番号, the カナ lost) never takes a name from the second reading.
    weak = _meisai(recipient_my_number=None, recipient_name="高橋 一朗", recipient_name_kana=None)
    weak["recipient_name"].second, weak["recipient_name"].agreement = "高橋 一郎", False
    apply_master("kyuyo_shiharai_hokokusho", weak, _index(), hmac_of=HMAC)
    assert weak["recipient_name"].value == "高橋 一朗" and weak["recipient_name"].review


def test_the_bench_breakdown_counts_what_still_goes_to_review_by_field_and_reason():
    from yomitori.extract import PageResult
    from yomitori.masters.breakdown import review_breakdown

    fields = _meisai()
    apply_master("kyuyo_shiharai_hokokusho", fields, _index(), hmac_of=HMAC)
    fields["payment_amount"] = _f("payment_amount", 4650000)  # below the gate's threshold, right as read
    fields["withholding_tax"] = _f("withholding_tax", 120000)
    fields["recipient_my_number"].review = True
    finding = {"fields": ["withholding_tax"], "rule": "tax_table", "message": "", "severity": "error"}
    page = PageResult("a.png", [1], "kyuyo_shiharai_hokokusho", "national", fields=fields, findings=[finding])
    truth = {"a.png": {"form": "kyuyo_shiharai_hokokusho", "layout": "national",
                       "truth": {**{k: f.value for k, f in fields.items()}, "withholding_tax": 125000,
                                 "recipient_my_number": MY_NUMBER}}}
    b = review_breakdown([page], truth, top=200)
    by_field = {k: (n, right) for k, n, right in b["by_field"]}
    by_reason = {k: (n, right) for k, n, right in b["by_reason"]}
    assert by_field["payment_amount"] == (1, 1) and by_field["withholding_tax"] == (1, 0)
    assert "recipient_name" not in by_field and "payer_name" not in by_field  # passed on the master's evidence
    assert by_reason["finding: tax_table"] == (1, 0)
    assert by_reason["below the gate's threshold"][0] >= 2
    # A field of the layout never extracted is counted, under its own reason.
    assert by_reason["not extracted (page not recognised)"][0] > 50


def test_the_demo_master_matches_the_samples_family_and_their_sole_proprietor():
    from pathlib import Path

    from yomitori.extract import PageResult
    from yomitori.masters.gate import with_master

    folder = Path(__file__).parents[1] / "examples" / "masters"
    # samples/meisai-print.jpg as read: 宮本 祐介 lived elsewhere on 1 January, his spouse and children in the city.
    family = {"tax_year": 2024, "recipient_name": "宮本 祐介", "recipient_name_kana": "ミヤモト ユウスケ",
              "recipient_address": "福岡県糟屋郡新宮町緑ケ浜3丁目19-5", "spouse_name": "宮本 和子",
              "spouse_name_kana": "ミヤモト カズコ", "spouse_my_number": "996729918405",
              "under16_1_name": "宮本 陽向", "under16_1_name_kana": "ミヤモト ヒナタ",
              "under16_1_my_number": "802078698461", "under16_2_name": "宮本 奏太",
              "under16_2_name_kana": "ミヤモト カナタ", "under16_2_my_number": "731842508759"}
    record = with_master(folder)(PageResult("meisai-print.jpg", [1], "kyuyo_shiharai_hokokusho", "national",
                                            fields={k: _f(k, v) for k, v in family.items()}))
    assert record["master"]["misdirected"]
    assert {slot: m["resident_id"] for slot, m in record["master"]["family"].items()} == {
        "spouse": "R0000004", "under16_1": "R0000005", "under16_2": "R0000006"}
    assert not record["fields"]["spouse_name"]["review"] and not record["fields"]["under16_2_name"]["review"]
    # samples/bundle-soukatsu-meisai.pdf page 2: 嶋田 純子's employer, a 個人事業主 with no 法人番号 nor 指定番号.
    shimada = {"tax_year": 2024, "recipient_name": "島田 純子", "recipient_name_kana": "シマダ ジュンコ",
               "birth_date": "1992-07-10", "recipient_address": "京都府木津川市梅美台1丁目13番13号",
               "recipient_my_number": "552774459890", "payer_number": "399849771531", "payer_name": "山崎整骨院",
               "payer_address": "京都府京都市西京区上桂前田町53番地22", "payer_phone": "075-849-3488"}
    record = with_master(folder)(PageResult("bundle.pdf", [2], "kyuyo_shiharai_hokokusho", "national",
                                            fields={k: _f(k, v) for k, v in shimada.items()}))
    assert record["master"]["employer"]["by"] == "name_address"
    assert record["fields"]["payer_name"]["value"] == "山﨑整骨院" and not record["fields"]["payer_name"]["review"]


def test_a_misread_employer_name_is_offered_as_the_one_on_whose_roll_the_recipient_is():
    fields = _meisai(payer_number="555566667777", payer_name="過見整骨院", payer_address=SOLE.address,
                     payer_phone=SOLE.phone)
    index = _with(SOLE, roll=(RollEntry("00077777", "A001"),))
    out = apply_master("kyuyo_shiharai_hokokusho", fields, index, hmac_of=HMAC)
    assert out.employer is not None and out.employer.by == "roll"
    assert fields["payer_name"].review and out.candidates["payer_name"] == "渡邊整骨院"  # a person decides
    assert not fields["payer_address"].review  # 所在地, phone and the roll agree
    # Off the roll, or another address: no employer.
    for idx, address in ((_with(SOLE), SOLE.address), (index, "東京都新宿区西新宿2丁目8番9号")):
        other = _meisai(payer_number="555566667777", payer_name="過見整骨院", payer_address=address)
        assert apply_master("kyuyo_shiharai_hokokusho", other, idx, hmac_of=HMAC).employer is None


def test_a_name_mostly_lost_with_a_letter_misread_comes_back_in_the_masters_characters_for_review():
    # A fax kept one letter of 髙橋 一郎, and misread it (桶 for 橋): the 個人番号 says who it is; a person confirms.
    lost = _meisai(recipient_name="桶")
    lost["recipient_name"].raw_confidence = 0.5
    out = apply_master("kyuyo_shiharai_hokokusho", lost, _index(), hmac_of=HMAC)
    assert lost["recipient_name"].value == "髙橋 一郎" and lost["recipient_name"].review
    assert lost["recipient_name"].second == "桶" and out.person.evidence["name"] == "partial"
    # Two letters read, both misread: too little of theirs to say so.
    far = _meisai(recipient_name="桶山")
    apply_master("kyuyo_shiharai_hokokusho", far, _index(), hmac_of=HMAC)
    assert far["recipient_name"].value == "桶山" and far["recipient_name"].review
