"""Japanese telephone numbers: digit counts by number kind and the usual hyphen grouping."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PhoneProblem", "check_phone"]

# Number kinds by their leading digits (総務省 電気通信番号計画): (prefix, kind, digits, grouping on paper).
_SPECIAL = (
    ("0120", "フリーダイヤル", 10, (4, 3, 3)),
    ("0800", "フリーダイヤル", 11, (4, 3, 4)),
    ("0570", "ナビダイヤル", 10, (4, 3, 3)),
    ("0180", "テレドーム", 10, (4, 3, 3)),
    ("0990", "ダイヤルQ2", 10, (4, 3, 3)),
    ("070", "携帯電話", 11, (3, 4, 4)),
    ("080", "携帯電話", 11, (3, 4, 4)),
    ("090", "携帯電話", 11, (3, 4, 4)),
    ("050", "IP電話", 11, (3, 4, 4)),
    ("060", "FMC", 11, (3, 4, 4)),
    ("020", "データ通信・ポケベル", 11, (3, 4, 4)),
)


@dataclass(frozen=True)
class PhoneProblem:
    """Why a phone number is wrong (`certain`: no such number can exist) or unusually written."""

    message: str
    certain: bool


def check_phone(phone: str) -> PhoneProblem | None:
    """None for a well-formed number (e.g. 03-5253-5111, 090-1234-5678, 0120-123-456), else the problem.

    A landline number has ten digits: 0, the area code and the local exchange (five digits together,
    so the first two groups hold six with the 0) and a four-digit subscriber number.
    """
    groups = phone.split("-")
    digits = "".join(groups)
    if not digits.isascii() or not digits.isdigit() or any(not g for g in groups):
        return PhoneProblem("電話番号は数字とハイフンで書きます", certain=True)
    if not digits.startswith("0") or digits.startswith("00"):
        return PhoneProblem("国内の電話番号は0で始まり、2桁目は0以外です", certain=True)
    lengths = tuple(len(g) for g in groups)
    for prefix, kind, size, grouping in _SPECIAL:
        if digits.startswith(prefix):
            if len(digits) != size:
                return PhoneProblem(f"{prefix}で始まる{kind}の番号は{size}桁です（{len(digits)}桁あります）",
                                    certain=True)
            if len(groups) > 1 and lengths != grouping:
                usual = "-".join("X" * n for n in grouping)
                return PhoneProblem(f"{kind}の番号の区切りが通常と違います（通常は{usual}）", certain=False)
            return None
    if len(digits) != 10:
        return PhoneProblem(f"固定電話の番号は市外局番から10桁です（{len(digits)}桁あります）", certain=True)
    if len(groups) > 1 and not (len(groups) == 3 and lengths[0] + lengths[1] == 6 and lengths[2] == 4
                                and 2 <= lengths[0] <= 5):
        return PhoneProblem("固定電話の番号の区切りが通常と違います（市外局番-市内局番-加入者番号で、最後は4桁）",
                            certain=False)
    return None
