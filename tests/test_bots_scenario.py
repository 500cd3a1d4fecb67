"""Scenario loading (errors name the file and line), transforms, idempotency keys and redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from yomitori.bots import transforms
from yomitori.bots.keys import idempotency_key, redact
from yomitori.bots.scenario import ScenarioError, load_scenario

DEMO = Path(__file__).parents[1] / "bots" / "scenarios" / "demo_tax_system.yaml"
TEXT = DEMO.read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "scenario.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_demo_scenario_loads() -> None:
    s = load_scenario(DEMO)
    assert s.form == "kyuyo_shiharai_hokokusho"
    assert s.idempotency_key == ["payer_number", "recipient_my_number", "tax_year"]
    assert sum(step.commit for step in s.key_in) == 1


def test_unknown_field_names_the_line(tmp_path: Path) -> None:
    text = TEXT.replace("field: payment_amount, transform: digits", "field: payment_amout, transform: digits")
    with pytest.raises(ScenarioError) as e:
        load_scenario(_write(tmp_path, text))
    line = _line_of(text, "payment_amout")
    assert any(f"scenario.yaml:{line}:" in p and "'payment_amout' is not a field" in p for p in e.value.problems)


def test_unknown_field_inside_repeat_names_the_group_line(tmp_path: Path) -> None:
    text = TEXT.replace('field: "dependent_{i}_name"}', 'field: "dependent_{i}_nam"}')
    with pytest.raises(ScenarioError) as e:
        load_scenario(_write(tmp_path, text))
    line = _line_of(text, "dependent_{i}_nam\"")
    assert any(f":{line}:" in p and "'dependent_1_nam'" in p for p in e.value.problems)


def test_schema_errors_name_their_lines(tmp_path: Path) -> None:
    text = (TEXT.replace("  - fill: {label: 種別, field: payment_type}", "  - fil: {label: 種別, field: payment_type}")
            .replace("{label: 支払金額, field: payment_amount", "{label: 支払金額, css: '#x', field: payment_amount")
            .replace("password: {env: YOMITORI_TARGET_PASSWORD, file: ~/.config/yomitori/target_password}",
                     "password: hunter2"))
    with pytest.raises(ScenarioError) as e:
        load_scenario(_write(tmp_path, text))
    problems = "\n".join(e.value.problems)
    assert f":{_line_of(text, 'fil: {label: 種別')}: key_in[" in problems and "exactly one action" in problems
    assert f":{_line_of(text, 'css: ' + chr(39) + '#x')}:" in problems and "exactly one of label" in problems
    assert f":{_line_of(text, 'password: hunter2')}: credentials.password: a credential comes from env" in problems


def test_bad_yaml_and_missing_commit(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as e:
        load_scenario(_write(tmp_path, TEXT.replace("  - goto: /login", "  - goto: [/login")))
    assert "not valid YAML" in e.value.problems[0]
    with pytest.raises(ScenarioError) as e:
        load_scenario(_write(tmp_path, TEXT.replace("    commit: true\n", "")))
    assert any("exactly one step must be marked commit: true" in p for p in e.value.problems)


def test_unknown_transform_names_the_line(tmp_path: Path) -> None:
    text = TEXT.replace('transform: "slice:0:4"', 'transform: "slise:0:4"')
    with pytest.raises(ScenarioError) as e:
        load_scenario(_write(tmp_path, text))
    assert any(f":{_line_of(text, 'slise')}:" in p and "unknown transform 'slise'" in p for p in e.value.problems)


@pytest.mark.parametrize(("value", "specs", "expected"), [
    ("1989-01-07", ["wareki_era"], "昭和"),
    ("1989-01-08", ["wareki_era:number"], 4),
    ("2019-05-01", ["wareki_year"], 1),
    (2019, ["wareki_era"], "令和"),  # a 年分 takes the era in force at the year's end
    ("1985-04-07", ["wareki_year", "zero_pad:2"], "60"),
    ("1985-04-07", ["month", "zero_pad:2"], "04"),
    ("ヤマダ タロウ", ["half_kana"], "ﾔﾏﾀﾞ ﾀﾛｳ"),
    ("ｶﾞﾅﾊ", ["full_kana"], "ガナハ"),
    (4560000, ["digits"], "4560000"),
    (4560000, ["comma"], "4,560,000"),
    (4567890, ["unit:10000"], 456),
    (4567890, ["remainder:10000"], 7890),
    ("123456789018", ["slice:4:8"], "5678"),
    ("yes_other_payer", ["choice:yes=1,yes_other_payer=2"], "2"),
    (None, ["digits"], None),
])
def test_transforms(value: object, specs: list[str], expected: object) -> None:
    assert transforms.apply(value, specs) == expected


def test_keys_are_stable_secret_and_never_show_the_number() -> None:
    values = {"payer_number": "1234567890123", "recipient_my_number": "123456789018", "tax_year": 2024}
    fields = ["payer_number", "recipient_my_number", "tax_year"]
    k1 = idempotency_key(b"s1", "f", values, fields)
    assert k1 == idempotency_key(b"s1", "f", dict(values), fields)
    assert k1 != idempotency_key(b"s2", "f", values, fields)
    assert k1 != idempotency_key(b"s1", "f", {**values, "tax_year": 2023}, fields)
    assert "123456789018" not in k1
    masked = redact("個人番号 1234 5678 9018 と 123456789018 は不一致")
    assert masked == "個人番号 ************ と ************ は不一致"
    assert redact("支払金額 4560013 円") == "支払金額 4560013 円"


def test_cli_check_reports_lines_and_exit_code(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from yomitori.bots.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["check", str(DEMO)])
    assert ok.exit_code == 0 and "OK" in ok.output
    text = TEXT.replace("transform: wareki_year}", "transform: wareki_yaer}", 1)
    bad = runner.invoke(app, ["check", str(_write(tmp_path, text))])
    assert bad.exit_code == 6
    assert f"scenario.yaml:{_line_of(text, 'wareki_yaer')}:" in bad.output and "unknown transform" in bad.output
    neither = runner.invoke(app, ["run", str(DEMO)])
    assert neither.exit_code == 2 and "--records FILE.jsonl or --batch ID" in neither.output
    batch = runner.invoke(app, ["run", str(DEMO), "--batch", "7", "--tenant", "nowhere"],
                          env={"YOMITORI_DATA_DIR": str(tmp_path / "data")})
    assert "unknown tenant 'nowhere'" in str(batch.exception)  # the store is asked, not a file
