"""Generated masters (no real person) covering generated pages: the demo master and `yomitori bench-masters`'.

From the pages' truth records: each recipient a resident (some left out: they lived elsewhere on 1 January) with
the family the 明細書 lists, each payer an employer, the recipients on their employer's 特別徴収 roll, and other
people beside them, homonyms among them (the same name and カナ, another birth date and address), so matching has
to tell people apart.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from typing import Any

from .data import make_record

RESIDENT_COLUMNS = ("宛名番号", "氏名", "カナ氏名", "生年月日", "住所", "個人番号", "住定日", "転出日", "支援措置")
EMPLOYER_COLUMNS = ("指定番号", "法人番号", "名称", "所在地", "電話番号")
ROLL_COLUMNS = ("指定番号", "宛名番号")
FAMILY_SLOTS = ("spouse", *(f"dependent_{i}" for i in range(1, 5)), *(f"under16_{i}" for i in range(1, 5)))


def designated_number(truth: dict[str, Any]) -> str:
    """The employer's 指定番号: as printed, else one derived from its payer number (stable for one employer)."""
    printed = truth.get("payer_designated_number")
    return str(printed) if printed else f"{int(str(truth.get('payer_number') or 0)) % 10**8:08d}"


def masters_for(truths: Sequence[dict[str, Any]], *, absent: float = 0.05, others: int = 2, seed: int = 0,
                support_measure: Sequence[int] = ()) -> tuple[dict[str, list[dict[str, str]]], set[int]]:
    """CSV rows of the three masters for these 明細書 truths, and the indexes of the recipients left out."""
    rng = random.Random(f"masters:{seed}")
    out: dict[str, list[dict[str, str]]] = {"residents": [], "employers": [], "roll": []}
    left_out = {i for i in range(len(truths)) if rng.random() < absent}
    employers: dict[str, dict[str, str]] = {}
    n = 0

    def person(name: Any, kana: Any, birth: Any, address: Any, my_number: Any, dv: bool = False) -> str:
        nonlocal n
        n += 1
        rid = f"R{n:07d}"
        out["residents"].append({"宛名番号": rid, "氏名": str(name or ""), "カナ氏名": str(kana or ""),
                                 "生年月日": str(birth or ""), "住所": str(address or ""),
                                 "個人番号": str(my_number or ""), "住定日": "", "転出日": "",
                                 "支援措置": "1" if dv else ""})
        return rid

    for i, t in enumerate(truths):
        if i not in left_out:
            rid = person(t.get("recipient_name"), t.get("recipient_name_kana"), t.get("birth_date"),
                         t.get("recipient_address"), t.get("recipient_my_number"), i in support_measure)
            out["roll"].append({"指定番号": designated_number(t), "宛名番号": rid})
            for slot in FAMILY_SLOTS:  # the family it lists, at the recipient's address (the form has no birth date)
                if t.get(f"{slot}_name"):
                    person(t[f"{slot}_name"], t.get(f"{slot}_name_kana"), "", t.get("recipient_address"),
                           t.get(f"{slot}_my_number"))
        if t.get("payer_name"):
            pn = str(t.get("payer_number") or "")
            employers.setdefault(designated_number(t), {
                "指定番号": designated_number(t), "法人番号": pn if len(pn) == 13 else "", "名称": str(t["payer_name"]),
                "所在地": str(t.get("payer_address") or ""), "電話番号": str(t.get("payer_phone") or "")})
        for _ in range(others):
            o = make_record("kyuyo_shiharai_hokokusho", rng)
            if rng.random() < 0.3:  # a homonym: same name and カナ, another person
                o = {**o, **{k: t.get(k) for k in ("recipient_name", "recipient_name_kana")}}
            person(o.get("recipient_name"), o.get("recipient_name_kana"), o.get("birth_date"),
                   o.get("recipient_address"), o.get("recipient_my_number"))
    out["employers"] = list(employers.values())
    return out, left_out


def to_csv(rows: list[dict[str, str]], columns: Sequence[str]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


# The people and employers of the bundled samples (samples/*: generated, no real person), as the demo city keeps
# them: 嶋田 in the city's characters where the 明細書 prints 島田, 岩﨑 賢治 under 支援措置, 宮本 祐介 missing
# (he lived elsewhere on 1 January: 送付先誤り) while the spouse and two children his 明細書 lists live in the city
# (matched by their 個人番号), 株式会社大和ソリューションズ spelt right, and 嶋田 純子's employer, a 個人事業主 that
# prints no 法人番号 nor 指定番号, matched by name and 所在地 and kept in the city's characters (山﨑整骨院).
DEMO_RESIDENTS = (
    ("R0000001", "嶋田 純子", "シマダ ジュンコ", "1992-07-10", "京都府木津川市梅美台1丁目13番13号", "552774459890",
     ""),
    ("R0000002", "岩田 杏", "イワタ アン", "1956-10-10", "新潟県阿賀野市向中ノ通1429番地17", "736737623722", ""),
    ("R0000003", "岩﨑 賢治", "イワサキ ケンジ", "2004-02-22", "愛知県名古屋市千種区仲田1丁目12-12", "542406241200",
     "1"),
    ("R0000004", "宮本 和子", "ミヤモト カズコ", "1987-05-14", "京都府木津川市州見台3丁目2番7号", "996729918405", ""),
    ("R0000005", "宮本 陽向", "ミヤモト ヒナタ", "2015-08-03", "京都府木津川市州見台3丁目2番7号", "802078698461", ""),
    ("R0000006", "宮本 奏太", "ミヤモト カナタ", "2018-11-21", "京都府木津川市州見台3丁目2番7号", "731842508759", ""),
)
DEMO_EMPLOYERS = (
    ("45851999", "6350898693952", "株式会社太陽システム", "長崎県長崎市小菅町38番地", "095-949-5476"),
    ("53830470", "2125828745461", "株式会社大和ソリューションズ", "埼玉県深谷市稲荷町6-6-19", "048-308-7251"),
    ("42778957", "1957672701624", "サンライズエンジニアリング株式会社", "愛知県春日井市篠木町1-19-7 センタービル5階",
     "0566-26-5632"),
    ("10000001", "5688172636260", "ライフ商会株式会社", "東京都世田谷区玉川2丁目3番6号 住友ビル10階", "03-8424-5489"),
    ("10000002", "", "山﨑整骨院", "京都府京都市西京区上桂前田町53番地22", "075-849-3488"),
)
DEMO_ROLL = (("53830470", "R0000002"), ("42778957", "R0000003"), ("10000002", "R0000001"))


def demo_masters(others: int = 20, seed: int = 1) -> dict[str, bytes]:
    """The demo master's three CSVs (examples/masters/): the samples' people and employers, and other residents."""
    rng = random.Random(f"demo-masters:{seed}")
    residents = [dict(zip(RESIDENT_COLUMNS, (*r[:6], "", "", r[6]), strict=True)) for r in DEMO_RESIDENTS]
    for i in range(others):
        o = make_record("kyuyo_shiharai_hokokusho", rng)
        values = [o.get(k) for k in ("recipient_name", "recipient_name_kana", "birth_date", "recipient_address",
                                     "recipient_my_number")]
        residents.append(dict(zip(RESIDENT_COLUMNS, (f"R{i + 100:07d}", *(str(v or "") for v in values), "", "", ""),
                                  strict=True)))
    return {"residents.csv": to_csv(residents, RESIDENT_COLUMNS),
            "employers.csv": to_csv([dict(zip(EMPLOYER_COLUMNS, e, strict=True)) for e in DEMO_EMPLOYERS],
                                    EMPLOYER_COLUMNS),
            "roll.csv": to_csv([dict(zip(ROLL_COLUMNS, r, strict=True)) for r in DEMO_ROLL], ROLL_COLUMNS)}


if __name__ == "__main__":  # python -m yomitori.synth.masters examples/masters
    import sys
    from pathlib import Path

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/masters")
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in demo_masters().items():
        (folder / name).write_bytes(data)
    print(f"wrote the demo master to {folder}")
