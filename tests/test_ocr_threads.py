"""A worker that shares the cores with others runs every onnxruntime session it opens on one thread."""

from __future__ import annotations

import numpy as np

from yomitori.ocr import detect


def test_the_detector_runs_on_the_threads_asked_for() -> None:
    assert detect._session(1).get_session_options().intra_op_num_threads == 1
    page = np.full((640, 480), 255, np.uint8)
    page[300:330, 100:380] = 0
    assert detect.detect_lines(page, threads=1) == detect.detect_lines(page)  # same boxes, fewer threads


def test_page_reading_detects_with_its_recognizers_threads(monkeypatch) -> None:
    from yomitori.classify import page_reading

    asked: list[int | None] = []

    def fake_detect(gray, *, threads=None, **_):
        asked.append(threads)
        return []

    class OneThread:
        name, threads = "fake", 1

        def recognize(self, lines, charsets):
            return []

    monkeypatch.setattr(page_reading, "detect_lines", fake_detect)
    page = np.full((2376, 1680), 255, np.uint8)
    page[200:2200, 150] = page[200:2200, 1530] = page[200, 150:1531] = page[2200, 150:1531] = 0  # a frame
    page[300:330, 300:900] = 0
    page_reading.read_page(page, 0, OneThread())
    assert asked == [1]


def test_bench_workers_open_one_thread_sessions(monkeypatch) -> None:
    import yomitori.extract
    import yomitori.ocr.engine
    from yomitori import unseen_bench

    built: list[object] = []
    monkeypatch.setattr(yomitori.ocr.engine, "get_engine", lambda name, **kw: built.append(kw) or object())
    monkeypatch.setattr(yomitori.extract, "Extractor", lambda engine: engine)
    monkeypatch.setattr(unseen_bench, "_EXTRACTOR", None)
    monkeypatch.setattr(unseen_bench, "_THREADS", 0)
    unseen_bench._one_thread()
    unseen_bench._extractor()
    assert built == [{"threads": 1}]
