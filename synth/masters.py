"""Generated masters (no real person) covering generated pages: the demo master and `yomitori bench-masters`'.

From the pages' truth records: each recipient a resident (some left out: they lived elsewhere on 1 January), each
payer an employer, the recipients on their employer's 特別徴収 roll, and other people beside them, homonyms among
them (the same name and カナ, another birth date and address), so matching has to tell people apart.
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
