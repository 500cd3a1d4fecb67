"""The extraction pipeline: input files → pages → classified, registered, read, normalized records.

Stages are plain functions; `extract_files` runs them over many files with a pool of worker
processes (one recognizer per process, one thread each, so both cores work on different pages).
Recognition is batched across the fields of several pages at once, which is what a GPU wants.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from yomitori.classify import classify
from yomitori.classify.batch_layouts import LearnedLayouts
from yomitori.classify.label_fallback import Fallback, locate, settle
from yomitori.forms_templates import LayoutTemplate, templates
from yomitori.forms_templates.contract import ERROR_FORM, UNKNOWN_FORM
from yomitori.gate import apply_gate
from yomitori.ingest import Page, PageFailure, read_pages
from yomitori.name_readings import KANA_SUFFIX, fits, fitting_reading, nearest_reading, reading_variant
from yomitori.ocr.engine import Reading, RecognitionEngine, get_engine
from yomitori.ocr.fields import FieldResult, Line, Pending, after_next_year, plan_field, read_in_rounds
from yomitori.ocr.japanese import NAME_KEYS_SUFFIX
from yomitori.ocr.lexicon import plausibility
from yomitori.ocr.name_variants import prefer_printed_variants
from yomitori.ocr.preprocess import to_working
from yomitori.ocr.rule_strokes import only_rule_strokes


@dataclass
class PageResult:
    source: str
    pages: list[int]
    form: str
    layout: str | None = None
    form_confidence: float = 0.0
    fields: dict[str, FieldResult] = field(default_factory=dict)
    error: str | None = None
    rotation: int = 0
    registration: float = 0.0  # how well the page registered onto its layout (0..1)
    # The validators' findings on these values (yomitori.validation.Finding), as the gate found them; None when
    # not validated, or when values changed after the gate (the label fallback settles eras and postal codes).
    findings: list | None = None
    # The page registered onto the layout (template millimetres × PX_PER_MM), for field crops; kept only
    # when the Extractor is asked to (the batch pipeline stores crops; `yomitori extract` does not).
    image: np.ndarray | None = field(default=None, repr=False)

    def to_record(self) -> dict[str, object]:
        """The contract's JSONL object."""
        record: dict[str, object] = {"source": self.source, "pages": self.pages, "form": self.form}
        if self.form == ERROR_FORM:
            record["error"] = self.error
            return record
        record["layout"] = self.layout
        record["form_confidence"] = round(self.form_confidence, 4)
        record["fields"] = {
            k: {"value": r.value, "confidence": round(r.confidence, 4), "review": r.review}
            for k, r in self.fields.items()
        }
        return record


@dataclass(frozen=True)
class WorkPage:
    """What a worker receives: a page already reduced to working size (small enough to pickle)."""

    source: str
    number: int
    gray: np.ndarray


class Extractor:
    """Classify, register and read pages with one recognition engine."""

    def __init__(
        self,
        engine: RecognitionEngine | None = None,
        layouts: Sequence[LayoutTemplate] | None = None,
        *,
        keep_images: bool = False,
        second: RecognitionEngine | str | None = "auto",
    ):
        from yomitori.forms_templates.fonts import require

        require()  # the blank forms subtracted from each scan are printed with the label font
        self.engine = engine or get_engine("ppocr")
        self.layouts = list(layouts) if layouts is not None else list(templates().values())
        self.keep_images = keep_images
        self.second = second_reader(self.engine) if second == "auto" else second
        self.learned = LearnedLayouts()  # layouts of this batch's fallback pages, for its poorer pages

    def read(self, pages: Sequence[WorkPage]) -> list[PageResult]:
        plans: list[tuple[PageResult, dict[str, Pending]]] = []
        fallback: dict[int, tuple[Fallback, np.ndarray]] = {}  # results read by the label fallback, their pages
        for p in pages:
            c = classify(p.gray, self.layouts, engine=self.engine)  # one recognizer per process, titles too
            result = PageResult(p.source, [p.number], c.form, c.layout, c.confidence)
            pending: dict[str, Pending] = {}
            if c.registered is not None:
                result.rotation = c.registered.rotation
                result.registration = c.registered.score
                if self.keep_images:
                    result.image = c.registered.gray
                pending = {f.key: plan_field(c.registered, f) for f in c.registered.template.fields}
            elif c.form not in (UNKNOWN_FORM, ERROR_FORM):
                # A known form in a layout no template fits: find its fields by their printed labels.
                fb = locate(p.gray, c.form, c.rotation, self.engine, second=self.second)
                if fb is not None:
                    result.rotation, pending = c.rotation, fb.pending
                    fallback[id(result)] = fb, p.gray
            plans.append((result, pending))
        readings, seconds = read_pending([pend for _, pending in plans for pend in pending.values()], self.engine,
                                         self.second)
        cursor = 0
        for result, pending in plans:
            n = sum(len(pend.lines) for pend in pending.values())
            result.fields = read_fields(pending, readings[cursor : cursor + n],
                                        seconds[cursor : cursor + n] if seconds is not None else None)
            cursor += n
            if result.form not in (UNKNOWN_FORM, ERROR_FORM):
                result.findings = apply_gate(result.form, result.fields, registration=result.registration)
            if id(result) in fallback:
                fb, gray = fallback[id(result)]
                result.fields = self.learned.read_page(
                    gray, fb, result.fields, lambda pending: read_planned(pending, self.engine, self.second))
                result.fields = settle(result.fields, fb)  # after the gate: never passed
                result.findings = None  # settling may change values: they are validated afresh
        return [r for r, _ in plans]



def read_planned(pending: dict[str, Pending], engine: RecognitionEngine,
                 second: RecognitionEngine | None) -> dict[str, FieldResult]:
    """Planned fields read as the pipeline reads them: every line by both readers, then `read_fields`."""
    return read_fields(pending, *read_pending(list(pending.values()), engine, second))


def read_pending(pending: Sequence[Pending], engine: RecognitionEngine,
                 second: RecognitionEngine | None) -> tuple[list[Reading], list[Reading] | None]:
    """Every planned line read by both readers (`recognize_lines`), in plan order; a field's further candidate
    places only where the nearer ones gave no value (`read_in_rounds`)."""
    def read(lines: list[Line]) -> list[list[Reading]]:
        first, other = recognize_lines(lines, engine, second)
        return [first] if second is None else [first, other or []]

    by_reader = read_in_rounds(pending, read)
    return by_reader[0], by_reader[1] if second is not None else None


def recognize_lines(lines: Sequence[Line], engine: RecognitionEngine,
                    second: RecognitionEngine | None) -> tuple[list[Reading], list[Reading] | None]:
    """Every line read by the first reader and, when there is one, by the second (None without it). A line that
    holds only a rule's strokes (a dashed guide line in a value area) is not read: it reads as nothing."""
    ruled = [only_rule_strokes(ln.image) for ln in lines]
    todo = [i for i, r in enumerate(ruled) if not r]
    images, charsets = [lines[i].image for i in todo], [lines[i].charset for i in todo]

    def read(reader: RecognitionEngine) -> list[Reading]:
        got = iter(reader.recognize(images, charsets) if todo else [])
        return [Reading("", 0.0) if r else next(got) for r in ruled]

    return read(engine), read(second) if lines and second is not None else None


def read_fields(pending: dict[str, Pending], readings: Sequence[Reading],
                seconds: Sequence[Reading] | None) -> dict[str, FieldResult]:
    """One page's planned fields finished from their lines' readings (in plan order) by the first reader and,
    when there is one, the second: the better guess is kept, the other kept beside it for the gate."""
    fields: dict[str, FieldResult] = {}
    cursor = 0
    for key, pend in pending.items():
        n = len(pend.lines)
        mine = list(readings[cursor : cursor + n])
        theirs = list(seconds[cursor : cursor + n]) if seconds is not None else None
        if theirs is not None and key.endswith(NAME_KEYS_SUFFIX):
            mine, theirs = prefer_printed_variants(mine, theirs, [ln.image for ln in pend.lines])
        field_result = pend.finish(mine)
        if n:
            field_result.read = True
            if theirs is not None:
                other = pend.finish(theirs)
                if _better(other, field_result):
                    field_result, other = other, field_result
                    field_result.read = True
                field_result.second, field_result.agreement = other.value, other.value == field_result.value
                field_result.second_confidences = other.char_confidences or (other.raw_confidence,)
        fields[key] = field_result
        cursor += n
    _fit_readings_to_names(fields)
    return fields


def _better(other: FieldResult, first: FieldResult) -> bool:
    """Whether the second reading is the better guess: the only valid value; both valid and different, the more
    plausible text, else the one whose least sure letter is surer (the readers err on different letters)."""
    if other.normalized != first.normalized:
        return other.normalized
    if other.value == first.value:
        return False
    if isinstance(other.value, str) and isinstance(first.value, str):
        # A known town or 種別 beats a broken one (:寓町 for 三ノ宮町), whichever reader was surer of its letters.
        a, b = plausibility(first.key, first.value), plausibility(other.key, other.value)
        if a != b:
            return b > a
        # A reader that drops a letter is surer of the letters it kept: the one that read it too is right.
        if _dropped_letters(first.value, other):
            return True
        if _dropped_letters(other.value, first):
            return False
    # 令和5 read as 令和15: a tax year after next year is none yet (the 総括表's 年度 runs a year ahead).
    if first.key == "tax_year" and isinstance(first.value, int) and isinstance(other.value, int) \
            and after_next_year(first.value) != after_next_year(other.value):
        return after_next_year(first.value)
    return min(other.char_confidences, default=other.raw_confidence) > min(
        first.char_confidences, default=first.raw_confidence)


# Least letter probability of the fuller reading for its extra letters to count: a phantom letter read in a gap
# between two names (福島邨 紀子) is far less sure.
FULLER_READING_SURE = 0.35


def _dropped_letters(shorter: str, fuller: FieldResult) -> bool:
    """Whether `fuller` is a Japanese text reading that is `shorter` with letters added, each a letter of a word
    (not punctuation, a lone ー, or a word of its own such as a seal's remains after the name: 藤田 美香 (田)).

    Designed on 280 tuning pages: it changed 8 fields there, each from wrong to right. Where the shorter reading
    was the right one, the fuller one's extras were a bracket, a colon, a trailing word, ー or a phantom letter
    read at under 0.35 in a gap.
    """
    long = fuller.value
    if not isinstance(long, str) or len(long) <= len(shorter) or long.isascii():
        return False
    if min(fuller.char_confidences, default=0.0) < FULLER_READING_SURE:
        return False
    extra, i = [], 0
    for j, ch in enumerate(long):
        if i < len(shorter) and ch == shorter[i]:
            i += 1
        elif ch != " ":
            extra.append(j)
    if i < len(shorter) or not extra:
        return False  # not the shorter one with letters added
    extras, start = set(extra), 0
    for word in long.split(" "):
        if word and all(start + k in extras for k in range(len(word))):
            return False  # a word of its own
        start += len(word) + 1
    return all(_word_letter(long, j) for j in extra)


def _word_letter(text: str, j: int) -> bool:
    ch = text[j]
    if ch == "ー":  # inside a katakana word only (センタービル), not trailing one (ユウスケ ー)
        return 0 < j < len(text) - 1 and _katakana(text[j - 1]) and _katakana(text[j + 1])
    return unicodedata.category(ch)[0] in "LN"


def _katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fa"


def _fit_readings_to_names(fields: dict[str, FieldResult]) -> None:
    """Each フリガナ read beside a name: spaced as the name is when it is a reading of it; with one misread kana
    put right (and a reason, so a person confirms it) when exactly one reading of the name is that close."""
    for key, f in fields.items():
        name = fields.get(key.removesuffix(KANA_SUFFIX)) if key.endswith(KANA_SUFFIX) else None
        if name is None or not isinstance(name.value, str) or not isinstance(f.value, str):
            continue
        _name_the_reading_reads(name, [k for k in (f.value, f.second) if isinstance(k, str)])
        _fit_name_to_reading(name, f.value)
        if (spaced := fitting_reading(name.value, f.value)) is not None:
            f.value = spaced
        elif isinstance(f.second, str) and (spaced := fitting_reading(name.value, f.second)) is not None:
            # The readers disagree and only the second read a reading of the name (ミウラ ユユウイチ, ミウラ ユウイチ).
            _take_second(f, spaced)
        elif (fixed := nearest_reading(name.value, f.value)) is not None:
            if f.second == f.value and reading_variant(f.value, fixed):
                # Both readers read it so, and it may well be this person's reading that the dictionary lacks.
                f.reasons.append(f"フリガナが氏名の辞書の読み（{fixed}）と1字違います")
            else:
                f.value = fixed
                f.reasons.append("フリガナの1字を氏名の読みに合わせて直しました")
            f.review = True
        if isinstance(f.second, str) and (spaced := fitting_reading(name.value, f.second)) is not None:
            f.second = spaced
        if f.agreement is not None:
            f.agreement = f.second == f.value


def _name_the_reading_reads(name: FieldResult, kanas: list[str]) -> None:
    """When the readers disagree on a name and its フリガナ (as either read it) is a reading of the second's name
    only, the second's is shown: one reader lost the surname of 丸山 浩 (浩), read マルヤマ ヒロシ."""
    other = name.second
    if not isinstance(other, str) or not isinstance(name.value, str) or other == name.value:
        return
    if any(fits(other, k) for k in kanas) and not any(fits(name.value, k) for k in kanas):
        _take_second(name, other)


def _take_second(f: FieldResult, value: str) -> None:
    """The second reader's reading (as `value`) shown, the first's kept beside it, with their letters' sureness."""
    f.value, f.second = value, f.value
    f.char_confidences, f.second_confidences = f.second_confidences, f.char_confidences
    f.raw_confidence = min(f.char_confidences, default=f.raw_confidence)


# Letters of a name the recognizers read as a look-alike that names hardly use (千葉 as 干葉, 千尋 as 干尋).
NAME_LOOKALIKES = {"干": "千"}
# Letters made of thin horizontal strokes only, which a fax or a blurred Mincho print can lose altogether.
THIN_LETTERS = "一二三"


def _fit_name_to_reading(name: FieldResult, kana: str) -> None:
    """A name that is no reading of its フリガナ, but is with one look-alike letter put back (干葉 チバ → 千葉),
    is put back, with a reason: a person confirms it. 干場 ホシバ stays: it reads as written."""
    value = name.value
    if not isinstance(value, str) or fitting_reading(value, kana) is not None:
        return
    told = [value[:i] + NAME_LOOKALIKES[ch] + value[i + 1 :] for i, ch in enumerate(value) if ch in NAME_LOOKALIKES]
    told = [t for t in told if fitting_reading(t, kana) is not None]
    if len(told) == 1:
        name.value = told[0]
        name.reasons.append("氏名の1字をフリガナの読みに合わせて直しました")
        name.review = True
        if name.agreement is not None:
            name.agreement = name.second == name.value
        return
    # A thin letter lost to a fax or a blur (岩田 雄一 read 岩田 雄): the name with it is a reading of the
    # フリガナ, or one misread kana from one. Where it stood is a guess, so a person puts it back.
    thin = {value[:i] + ch + value[i:] for i in range(len(value) + 1) for ch in THIN_LETTERS}
    if any(fitting_reading(t, kana) is not None or nearest_reading(t, kana) is not None for t in thin):
        name.reasons.append("氏名の細い字（一・二・三）が読み落とされた可能性があります")
        name.review = True


def second_reader(engine: RecognitionEngine) -> RecognitionEngine | None:
    """An independent second recognizer for PP-OCR (PP-OCRv6, shipped in the same package), unless
    YOMITORI_SECOND_READER=none: two models agreeing is what lets a value pass without a person."""
    choice = os.environ.get("YOMITORI_SECOND_READER", "ppocrv6")
    if choice == "none" or not getattr(engine, "name", "").startswith("ppocr:") or engine.name == f"ppocr:{choice}":
        return None
    return get_engine("ppocr", model=choice, threads=getattr(engine, "threads", None))


# ---------------------------------------------------------------- many files, many processes


def work_pages(paths: Iterable[str]) -> Iterator[WorkPage | PageResult]:
    """Pages of every input at working size; unreadable inputs and pages become error results."""
    for path in paths:
        for item in read_pages(path):
            if isinstance(item, PageFailure):
                yield PageResult(str(path), [item.number] if item.number else [], ERROR_FORM, error=item.message)
            else:
                yield _to_work(item)


def _to_work(page: Page) -> WorkPage:
    return WorkPage(page.source, page.number, to_working(page.image))


_worker: Extractor | None = None


def _init_worker(engine: str, threads: int) -> None:
    global _worker
    _worker = Extractor(get_engine(engine, threads=threads))


def _read_chunk(chunk: list[WorkPage]) -> list[PageResult]:
    assert _worker is not None
    try:
        return _worker.read(chunk)
    except Exception as exc:  # one bad page must not take the batch down: report it and go on
        return [PageResult(p.source, [p.number], ERROR_FORM, error=f"extraction failed: {exc}") for p in chunk]


class ExtractionPool:
    """Worker processes, each with its recognizer loaded, reading pages in input order.

    workers=1 runs in this process. Entering the pool loads the models in every worker, so timing
    what follows measures extraction, not start-up. A chunk of one page keeps both cores busy from the first
    page to the last; larger chunks only pay where lines of several pages fill a GPU batch.
    """

    def __init__(self, workers: int = 2, engine: str = "ppocr", pages_per_chunk: int = 1) -> None:
        self.workers, self.engine, self.pages_per_chunk = workers, engine, pages_per_chunk
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ExtractionPool:
        if self.workers <= 1:
            _init_worker(self.engine, 0)
            return self
        ctx = mp.get_context("fork")  # no onnxruntime session exists yet in this process
        self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker,
                                         initargs=(self.engine, 1))
        for f in [self._pool.submit(_ready) for _ in range(self.workers * 2)]:
            f.result()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def run(self, paths: Iterable[str], on_page: Callable[[PageResult], None] | None = None) -> Iterator[PageResult]:
        chunks = _chunks(work_pages(paths), self.pages_per_chunk)
        if self._pool is None:
            for chunk in chunks:
                yield from _drain(_read_chunk(chunk) if isinstance(chunk[0], WorkPage) else chunk, on_page)
            return
        in_flight: deque[Future[list[PageResult]] | list[PageResult]] = deque()
        for chunk in chunks:
            in_flight.append(self._pool.submit(_read_chunk, chunk) if isinstance(chunk[0], WorkPage) else chunk)
            while len(in_flight) > self.workers * 2:
                yield from _drain(in_flight.popleft(), on_page)
        while in_flight:
            yield from _drain(in_flight.popleft(), on_page)


def _ready() -> bool:
    return _worker is not None


def extract_files(
    paths: Sequence[str],
    *,
    workers: int = 2,
    engine: str = "ppocr",
    pages_per_chunk: int = 1,
    on_page: Callable[[PageResult], None] | None = None,
) -> Iterator[PageResult]:
    """Results in input order; unreadable inputs and pages come back as `form: error` results."""
    from yomitori.forms_templates.fonts import require

    require()  # at start, naming the Debian package: not page after page failing with 'cannot open resource'
    with ExtractionPool(workers, engine, pages_per_chunk) as pool:
        yield from pool.run(paths, on_page)


def _drain(item, on_page) -> Iterator[PageResult]:
    results = item.result() if isinstance(item, Future) else item
    for r in results:
        if on_page:
            on_page(r)
        yield r


def _chunks(items: Iterator[WorkPage | PageResult], size: int) -> Iterator[list]:
    """Runs of work pages (up to `size`), with error results passed through as their own chunks."""
    chunk: list[WorkPage] = []
    for item in items:
        if isinstance(item, PageResult):
            if chunk:
                yield chunk
                chunk = []
            yield [item]
            continue
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


__all__ = ["UNKNOWN_FORM", "ExtractionPool", "Extractor", "PageResult", "WorkPage", "extract_files"]
