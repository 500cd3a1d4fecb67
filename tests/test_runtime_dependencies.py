"""Reading a page needs no synthetic generator, and a missing font is a clear error at start naming its package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[1]
SAMPLE = REPO / "samples" / "meisai-print.jpg"
# Runs `yomitori extract` in a process where importing the generator (synth/) fails.
WITHOUT_SYNTH = """
import importlib.abc, sys
class NoGenerator(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[:2] == ["yomitori", "synth"] or name.split(".")[0] == "synth":
            raise ImportError(f"the generator is not part of the runtime: {name}")
sys.meta_path.insert(0, NoGenerator())
import yomitori.batch_cli, yomitori.bots.runner, yomitori.jobs.stages, yomitori.jobs.worker, yomitori.review_ui.app
from yomitori.cli import main
sys.argv = ["yomitori", "extract", sys.argv[1], "--workers", "1"]
main()
"""


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("YOMITORI_")}, **extra}


def test_a_page_is_read_with_the_generator_blocked() -> None:
    done = subprocess.run([sys.executable, "-c", WITHOUT_SYNTH, str(SAMPLE)], capture_output=True, text=True,
                          cwd=REPO, env=_env(), timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    (record,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert record["form"] == "kyuyo_shiharai_hokokusho", record.get("error")
    assert record["fields"]["tax_year"]["value"] == 2023


def test_missing_font_is_a_clear_error_at_start_naming_the_package(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    done = subprocess.run([sys.executable, "-m", "yomitori", "extract", str(SAMPLE), str(SAMPLE), "--out", str(out),
                           "--workers", "1"], capture_output=True, text=True, cwd=REPO,
                          env=_env(YOMITORI_FONT_DIR=str(tmp_path / "no-fonts"), COLUMNS="200"), timeout=120,
                          check=False)
    message = " ".join(done.stderr.split())
    assert done.returncode == 4, message  # ExitCode.missing_dependency
    assert "apt-get install fonts-ipafont-gothic" in message and "ipag.ttf" in message
    assert "cannot open resource" not in message
    assert out.read_text(encoding="utf-8") == ""  # no page was tried and failed
