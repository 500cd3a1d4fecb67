"""The 入力確認票 and 異動者リスト of a batch: PDF rendered to PNG by poppler, its text read back (個人番号 masked,
who keyed it and when), and the CSV beside it."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from _bot_data import add_documents, approved_values

from yomitori.settings import Settings
from yomitori.standard import reports
from yomitori.store.models import BotRun
from yomitori.store.repo import Store

TENANT = "yokohama"


@pytest.fixture
def store(tmp_path: Path):
    s = Store(Settings(data_dir=tmp_path / "data"))
    yield s
    s.close()


def _batch(store: Store) -> tuple[int, list[dict]]:
    values = approved_values(3, seed=41)
    values[2].update(retired_midyear=True, employment_change_date="2024-09-30")
    with store.tenant(TENANT, create=True) as repo:
        batch = repo.create_batch("1月分 第1便")
        ids = add_documents(repo, batch, values)
        run = BotRun(batch_id=batch.id, bot="demo", started_by="suzuki", counts={"keyed": 1})
        repo.session.add(run)
        repo.session.flush()
        repo.add_keying_receipt(ids[0], bot="demo", run_id=str(run.id), result="ok", target_ref="R-1",
                                finished_at=datetime(2025, 1, 20, 1, 30, tzinfo=UTC))
        repo.audit("tanaka", "batch.export", batch, profile="315", records=2, refused=0)
        return batch.id, values


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
def test_kakunin_hyo_pdf_renders_with_masked_numbers_and_who_keyed_and_exported(store, tmp_path):
    batch_id, values = _batch(store)
    with store.tenant(TENANT) as repo:
        report = reports.build(repo, batch_id, "kakunin", "yamada")
        assert any(a.action == "batch.report" for a in repo.audit_log())
    pdf = tmp_path / "kakunin.pdf"
    pdf.write_bytes(reports.to_pdf(report))
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=60)
    png = next(tmp_path.glob("page*.png"))
    from PIL import Image

    with Image.open(png) as im:
        assert im.width > im.height  # A4 landscape
        assert np.unique(np.asarray(im.convert("L"))).size > 2  # drawn, not blank
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "入力確認票" in text and "1月分 第1便" in text and "確認者" in text
    for v in values:
        assert v["recipient_my_number"] not in text and v["recipient_my_number"][-4:] in text
        assert v["recipient_name"].split()[0] in text and f"{v['payment_amount']:,}" in text
    assert "suzuki" in text and "入力済" in text  # keyed by the bot run suzuki started
    assert "tanaka" in text and "315 形式 2 件" in text  # and exported
    assert f"支払金額合計 {sum(v['payment_amount'] for v in values):,} 円" in " ".join(text.split())


def test_idousha_list_csv_lists_who_left(store):
    batch_id, values = _batch(store)
    with store.tenant(TENANT) as repo:
        rows = list(csv.reader(io.StringIO(reports.to_csv(reports.build(repo, batch_id, "idou", "yamada"))
                                           .decode("utf-8-sig"))))
    assert rows[0][:4] == ["書類", "種類", "氏名", "個人番号"]
    assert len(rows) == 2 and rows[1][1] == "明細書（中途退職）" and rows[1][2] == values[2]["recipient_name"]
    number = values[2]["recipient_my_number"]
    assert rows[1][3].endswith(number[-4:]) and number not in rows[1][3]
    assert rows[1][4] == "2024-09-30"
