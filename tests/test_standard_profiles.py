"""Export profiles as data: the shipped ones load, a wrong one is refused naming its line, and the 異動届 example
writes a vendor's CSV (header, codes, dates) from approved 異動届出書."""

from __future__ import annotations

import csv
import io
import random

import pytest

from yomitori.standard.profiles import ProfileError, load_profile, parse_profile, shipped_profiles
from yomitori.standard.records import ExportItem, read_file, write_file
from yomitori.synth.data import make_company, make_record


def test_shipped_profiles_load():
    assert {"315", "idou-example"} <= set(shipped_profiles())
    for name in shipped_profiles():
        assert load_profile(name).columns
    assert load_profile("kyuhou_315").name == "315"


def test_a_profile_with_mistakes_is_refused_naming_each_line():
    text = """name: broken
form: idou_todokede
columns:
  - {item: 氏名, width: full, field: employee_nmae}
  - {item: 異動年月日, field: change_date}
  - {item: 区分, option: kubun}
  - {item: 幅, width: wide}
"""
    with pytest.raises(ProfileError) as e:
        parse_profile(text, "my-idou.yaml")
    problems = "\n".join(e.value.problems)
    assert "my-idou.yaml:7: columns[3].width" in problems  # not a width
    with pytest.raises(ProfileError) as e:
        parse_profile(text.replace("  - {item: 幅, width: wide}\n", ""), "my-idou.yaml")
    problems = "\n".join(e.value.problems)
    assert "my-idou.yaml:4: columns[0]: 'employee_nmae' is not a field of idou_todokede" in problems
    assert "my-idou.yaml:5: columns[1]: change_date is a date; give it a transform" in problems
    assert "my-idou.yaml:6: columns[2]: option 'kubun' is not declared under options:" in problems


def test_the_idou_example_writes_a_vendors_csv_with_header_codes_and_dates():
    rng = random.Random(5)
    company = make_company(rng)
    values = [make_record("idou_todokede", rng, payer=company) for _ in range(3)]
    for v in values:  # the generator writes 髙 and 﨑 as people do; this test is about the layout
        v.update({k: x.replace("髙", "高").replace("﨑", "崎") for k, x in v.items() if isinstance(x, str)})
    p = load_profile("idou-example")
    result = write_file(p, [ExportItem(str(i), v) for i, v in enumerate(values)], {"shori_kubun": "2"})
    assert not result.refused
    rows = list(csv.reader(io.StringIO(result.data.decode("cp932"), newline="")))
    assert rows[0][:3] == ["処理区分", "指定番号", "特別徴収義務者名"] and len(rows) == 4
    for v, row in zip(values, rows[1:], strict=True):
        assert row[0] == "2" and row[7] == v["employee_my_number"]
        assert row[8] == v["change_date"].replace("-", "")
        assert row[9] == {"retirement": "1", "transfer": "2", "leave": "3", "long_absence": "4", "death": "5",
                          "dissolution": "6", "address_error": "7", "other": "9"}[v["change_reason"]]
    assert result.data.count(b"\r\n") == 4
    back = list(read_file(p.model_copy(update={"header": False}), b"\r\n".join(result.data.split(b"\r\n")[1:])))
    assert [b.values["employee_my_number"] for b in back] == [v["employee_my_number"] for v in values]
