"""The confidence gate: calibrated probabilities, thresholds from a residual-error target, review rules."""

from __future__ import annotations

import json

import numpy as np
import pytest

from yomitori.gate import FEATURES, GateModel, GroupModel, apply_gate, features, fit_group, pick_threshold
from yomitori.ocr.fields import FieldResult


def _read(key: str, value: object, conf: float = 0.999, agree: bool | None = True, reasons=None) -> FieldResult:
    return FieldResult(key, value, conf, False, raw=str(value), read=True, raw_confidence=conf,
                       char_confidences=(conf,) * max(1, len(str(value))), second=value if agree else None,
                       agreement=agree, reasons=list(reasons or []))


def _model(threshold: float = 0.9) -> GateModel:
    # Confidence rises with the recognizer's certainty and with the second reading's agreement.
    coef = (0.5, 0.0, 4.0, 0.0, -6.0, 0.0, 0.0) + (0.0,) * (len(FEATURES) - 7)
    group = GroupModel(coef, -4.0, {"critical": threshold, "standard": threshold})
    return GateModel({g: group for g in ("number", "date", "kana", "text")}, {})


def test_pick_threshold_meets_the_target_with_a_margin():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 20_000)
    right = rng.uniform(0, 1, 20_000) < p  # perfectly calibrated
    t = pick_threshold(p, right, 0.01)
    passed = p >= t
    assert 0.95 < t < 1.0
    assert (~right[passed]).mean() <= 0.01
    assert pick_threshold(p[:500], right[:500], 0.001) == 1.0  # 500 fields cannot show 0.1 %: nothing passes
    overconfident = np.full(5000, 0.9999)
    half_wrong = np.arange(5000) % 2 == 0
    assert pick_threshold(overconfident, half_wrong, 0.001) == 1.0  # the errors seen overrule the model


def test_fit_group_learns_that_agreement_means_right():
    rng = np.random.default_rng(1)
    n = 4000
    agree = rng.uniform(0, 1, n) < 0.8
    right = np.where(agree, rng.uniform(0, 1, n) < 0.99, rng.uniform(0, 1, n) < 0.4)
    x = np.column_stack([np.where(agree, 1.0, 0.0) * 0 + rng.normal(3, 1, n), np.zeros(n), agree.astype(float),
                         np.zeros(n), np.zeros(n), np.ones(n), np.ones(n), np.zeros((n, len(FEATURES) - 7))])
    coef, intercept = fit_group(x, right.astype(float))
    m = GroupModel(tuple(coef), intercept, {})
    p_agree = np.mean([m.probability(v) for v in x[agree]])
    p_disagree = np.mean([m.probability(v) for v in x[~agree]])
    assert p_agree == pytest.approx(right[agree].mean(), abs=0.02)
    assert p_disagree == pytest.approx(right[~agree].mean(), abs=0.05)


def test_gate_model_json_round_trip_and_feature_check():
    m = _model()
    assert GateModel.from_json(m.to_json()) == m
    with pytest.raises(ValueError, match="calibrate"):
        GateModel.from_json('{"features": ["other"], "groups": {}}')
    assert len(features(_read("payment_amount", 4_560_000), 0.9)) == len(FEATURES)
    # A model fitted before the last features were added still loads, giving them no weight.
    old = json.loads(m.to_json())
    old["features"] = old["features"][:7]
    old["groups"] = {g: {**v, "coef": v["coef"][:7]} for g, v in old["groups"].items()}
    assert GateModel.from_json(json.dumps(old)) == m


def test_an_income_the_table_derives_from_the_payment_is_confirmed_to_the_gate():
    from yomitori import tax
    from yomitori.validation import check_document

    income = tax.employment_income(4_560_000, 2024)
    values = {"tax_year": 2024, "payment_amount": 4_560_000, "income_after_deduction": income}
    findings, confirmed = check_document("kyuyo_shiharai_hokokusho", values)
    # 支払金額 is rounded to 4,000円 before the table applies: its last digits are not checked, so only the
    # income is confirmed.
    assert confirmed == {"income_after_deduction"} and findings == []
    misread = {**values, "income_after_deduction": income + 10_000}
    assert check_document("kyuyo_shiharai_hokokusho", misread)[1] == frozenset()
    # Below 551,000円 every payment gives 0: agreement proves nothing there.
    small = {"tax_year": 2024, "payment_amount": 500_000, "income_after_deduction": 0}
    assert check_document("kyuyo_shiharai_hokokusho", small)[1] == frozenset()
    # Where the income is the payment less a constant, both repeat the same digits: one glyph misread alike
    # in both boxes keeps the identity (seen in a benchmark: 804,761 read as 801,761 and passed).
    shifted = {"tax_year": 2024, "payment_amount": 1_451_761, "income_after_deduction": 901_761}
    assert check_document("kyuyo_shiharai_hokokusho", shifted) == ([], frozenset())
    fields = {k: _read(k, v) for k, v in values.items()}
    apply_gate("kyuyo_shiharai_hokokusho", fields, registration=0.9, model=_model())
    assert fields["income_after_deduction"].gate_features[FEATURES.index("confirmed")] == 1.0
    assert fields["payment_amount"].gate_features[FEATURES.index("confirmed")] == 0.0


def test_sure_and_agreeing_fields_pass_disagreement_and_doubts_go_to_review():
    fields = {
        "payment_amount": _read("payment_amount", 4_560_000),
        "withholding_tax": _read("withholding_tax", 81_200, agree=False),
        "recipient_name": _read("recipient_name", "髙橋 一郎", reasons=["異体字の可能性: 髙"]),
        "recipient_name_kana": _read("recipient_name_kana", "タカハシ イチロウ", conf=0.4),
        "spouse_elderly": FieldResult("spouse_elderly", False, 0.97, False),
    }
    apply_gate("kyuyo_shiharai_hokokusho", fields, registration=0.9, model=_model())
    assert fields["payment_amount"].review is False and fields["payment_amount"].confidence > 0.9
    assert fields["withholding_tax"].review is True
    assert fields["withholding_tax"].alternatives == []  # the second reading gave nothing to offer here
    assert fields["recipient_name"].review is True
    assert fields["recipient_name_kana"].review is True
    assert fields["spouse_elderly"].review is False  # a clear mark needs no person


def test_a_validator_finding_sends_the_fields_it_names_to_review_with_its_message():
    fields = {
        "tax_year": _read("tax_year", 2024),
        "payment_amount": _read("payment_amount", 4_560_000),
        "income_after_deduction": _read("income_after_deduction", 4_000_000),  # 2024 rules give 3,208,000
    }
    findings = apply_gate("kyuyo_shiharai_hokokusho", fields, registration=0.9, model=_model())
    assert fields["income_after_deduction"].review is True
    (finding,) = findings  # returned for the batch to store, so the validators need not run again
    assert "income_after_deduction" in finding.fields and "給与所得控除後の金額" in finding.message
    assert fields["income_after_deduction"].reasons == []  # the message is the finding's: shown once, not twice
    assert fields["tax_year"].review is False  # the year picks the rules; it shares no digits with the amounts


def test_a_crashing_validator_sends_every_field_to_review_and_the_page_survives(monkeypatch):
    import yomitori.validation

    def broken(form, values):
        raise RuntimeError("bug")

    monkeypatch.setattr(yomitori.validation, "check_document", broken)
    fields = {"payment_amount": _read("payment_amount", 4_560_000)}
    (finding,) = apply_gate("kyuyo_shiharai_hokokusho", fields, registration=0.9, model=_model())
    assert fields["payment_amount"].review is True
    assert fields["payment_amount"].value == 4_560_000
    assert (finding.rule, finding.fields, finding.severity) == ("validation_failed", ("payment_amount",), "error")


def test_a_value_an_identity_ties_to_a_doubtful_one_goes_to_review_with_it():
    # One faint page: 令和5 read as 令和3, 1,354,761 as 1,351,761, 804,761 as 801,761. The misreads agree with
    # each other, so no rule objects; the surely read income must not pass while its partners are doubted.
    fields = {
        "tax_year": _read("tax_year", 2021, conf=0.4),
        "payment_amount": _read("payment_amount", 1_351_761, conf=0.4),
        "income_after_deduction": _read("income_after_deduction", 801_761),
        "social_insurance": _read("social_insurance", 201_000),
    }
    findings = apply_gate("kyuyo_shiharai_hokokusho", fields, registration=0.9, model=_model())
    assert not [f for f in findings if f.rule == "employment_income_mismatch"]  # the identity holds
    assert fields["income_after_deduction"].review is True
    assert fields["social_insurance"].review is False  # not tied to them by an identity
    sure = {k: _read(k, f.value) for k, f in fields.items()}
    apply_gate("kyuyo_shiharai_hokokusho", sure, registration=0.9, model=_model())
    assert sure["income_after_deduction"].review is False


def _row(value_type: str, group: str, *, agree: bool, letter: float, right: bool, forced: bool = False):
    from yomitori.calibrate import Row

    lg = float(np.log(letter / (1 - letter)))
    x = [lg, lg, float(agree), 0.0, 0.0, 0.95, 2.0, lg * agree, lg * agree, 0.0]
    return Row(value_type, group, tuple(x), right, forced, "print", "k", "p.png")


def test_sure_agreement_is_stated_at_its_observed_rate_and_passes_while_a_small_group_passes_only_that():
    from yomitori.calibrate import fit

    rng = np.random.default_rng(3)
    rows = [_row("amount", "number", agree=True, letter=0.97, right=True) for _ in range(3000)]
    rows += [_row("amount", "number", agree=False, letter=p, right=rng.uniform() < p)
             for p in rng.uniform(0.3, 0.999, 1500)]
    # Validator findings send these to review whatever their confidence: they must not count for a threshold.
    rows += [_row("amount", "number", agree=True, letter=0.97, right=False, forced=True) for _ in range(40)]
    rows += [_row("kana", "kana", agree=True, letter=0.995, right=rng.uniform() < 0.96) for _ in range(300)]
    rows += [_row("kana", "kana", agree=False, letter=0.6, right=False) for _ in range(100)]
    model = fit(rows, {})
    number = model.groups["number"]
    at, sure = number.sure["critical"]
    assert at == 0.9 and 0.9995 < sure < 1.0  # 3,000 of 3,000 right, stated as a Jeffreys estimate
    agreeing = _row("amount", "number", agree=True, letter=0.97, right=True).features
    assert number.probability(agreeing, "critical") >= number.thresholds["critical"]
    disagreeing = _row("amount", "number", agree=False, letter=0.6, right=True).features
    assert number.probability(disagreeing, "critical") < number.thresholds["critical"]
    # 400 kana cannot show a 0.1 % tail, and 96 % right is no sure agreement: none passes.
    kana = model.groups["kana"]
    assert kana.sure == {} and kana.thresholds == {"critical": 1.0, "standard": 1.0}
    assert GateModel.from_json(model.to_json()) == model


def test_kana_a_dictionary_reading_vouches_for_pass_on_their_own_sure_agreement():
    from yomitori.calibrate import Row, fit

    rng = np.random.default_rng(4)
    confirmed = FEATURES.index("confirmed")

    def kana(right: bool, vouched: bool) -> Row:
        row = _row("kana", "kana", agree=True, letter=0.995, right=right)
        return row._replace(features=tuple(1.0 if i == confirmed and vouched else v
                                           for i, v in enumerate(row.features)))

    # Agreeing kana are right 96 % of the time; those that are a reading of the name beside them, always.
    rows = [kana(bool(rng.uniform() < 0.9), vouched=False) for _ in range(600)]
    rows += [kana(True, vouched=True) for _ in range(2000)]
    model = fit(rows, {}).groups["kana"]
    assert model.sure == {} and model.sure_confirmed["standard"][0] == 0.5  # the lowest level tried
    assert model.probability(kana(True, vouched=True).features) >= model.thresholds["standard"]
    assert model.probability(kana(True, vouched=False).features) < model.thresholds["standard"]
    assert GateModel.from_json(GateModel({"kana": model}, {}).to_json()).groups["kana"] == model


def test_refit_pools_the_fields_of_several_calibration_folders(tmp_path):
    from rich.console import Console

    from yomitori.calibrate import ROWS_FILE, run_calibration
    from yomitori.errors import YomitoriError

    rng = np.random.default_rng(5)
    for name, n in (("a", 2500), ("b", 1500)):
        folder = tmp_path / name
        folder.mkdir()
        rows = [_row("amount", "number", agree=True, letter=0.97, right=True) for _ in range(n)]
        rows += [_row("amount", "number", agree=False, letter=p, right=bool(rng.uniform() < p))
                 for p in rng.uniform(0.3, 0.99, 300)]
        (folder / ROWS_FILE).write_text(json.dumps(rows), encoding="utf-8")
    out = tmp_path / "gate.json"
    quiet = Console(file=open(tmp_path / "log.txt", "w"))  # noqa: SIM115
    alone = run_calibration(pages=1, seed=1, workers=1, out=out, console=quiet, scans=tmp_path / "a", refit=True)
    both = run_calibration(pages=1, seed=1, workers=1, out=out, console=quiet, scans=tmp_path / "a", refit=True,
                           also=[tmp_path / "b"])
    assert both.meta["fields"] == alone.meta["fields"] + 1800
    # 4,000 sure fields all right claim a smaller error than 2,500 do.
    assert both.groups["number"].sure["critical"][1] > alone.groups["number"].sure["critical"][1]
    assert GateModel.from_json(out.read_text(encoding="utf-8")) == both
    with pytest.raises(YomitoriError, match="no calibration run"):
        run_calibration(pages=1, seed=1, workers=1, out=out, console=quiet, scans=tmp_path / "a", refit=True,
                        also=[tmp_path / "missing"])


def test_two_readers_that_disagree_send_a_field_to_review_however_sure_the_first_one_was():
    # A model that trusts the first reader's letters alone: still, a person decides between two readings.
    coef = (2.0,) + (0.0,) * (len(FEATURES) - 1)
    model = GateModel({g: GroupModel(coef, 0.0, {"critical": 0.99, "standard": 0.99})
                       for g in ("number", "date", "kana", "text")}, {})
    fields = {"withholding_tax": _read("withholding_tax", 81_200, conf=0.9999, agree=False),
              "social_insurance": _read("social_insurance", 512_000, conf=0.9999)}
    fields["withholding_tax"].second = 81_700
    apply_gate("kyuyo_shiharai_hokokusho", fields, registration=0.9, model=model)
    assert fields["withholding_tax"].confidence > 0.99 and fields["withholding_tax"].review is True
    assert fields["withholding_tax"].alternatives == [81_700]
    assert fields["social_insurance"].review is False


def test_critical_fields_pass_only_by_sure_agreement_never_by_the_curve_alone():
    from yomitori.calibrate import fit

    rng = np.random.default_rng(5)
    # Amounts both readers read surely (always right), and amounts read by one sure reader whose
    # letters the curve rates high; among those the curve alone would pass, some are wrong.
    rows = [_row("amount", "number", agree=True, letter=0.97, right=True) for _ in range(4000)]
    rows += [_row("amount", "number", agree=True, letter=p, right=rng.uniform() < 0.995)
             for p in rng.uniform(0.5, 0.89, 2000)]
    model = fit(rows, {}).groups["number"]
    _, sure = model.sure["critical"]
    assert model.thresholds["critical"] >= sure  # only sure agreement clears it
    unsure = _row("amount", "number", agree=True, letter=0.85, right=True).features
    assert model.probability(unsure, "critical") < model.thresholds["critical"]
    assert model.probability(_row("amount", "number", agree=True, letter=0.97, right=True).features,
                             "critical") >= model.thresholds["critical"]
