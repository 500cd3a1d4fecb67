"""Structured logs (JSON lines on stderr) with job context, and a filter that keeps 個人番号 out of every record."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter
from stdnum.jp import cn as corporate_number
from stdnum.jp import in_ as individual_number

MASK = "[個人番号?]"
CONTEXT_KEYS = ("tenant", "stage", "batch", "source", "pages", "document", "job")

# A run of digits (ASCII or full-width: \d is any Unicode digit) whose groups may be split by one space, hyphen,
# dash or minus sign, as 個人番号 are written: 1234 5678 9012, １２３４－５６７８－９０１２.
_SEPARATOR = "[ \u3000\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d]"
_DIGIT_RUN = re.compile(rf"\d+(?:{_SEPARATOR}\d+)*")
_NON_DIGIT = re.compile(r"\D")

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("yomitori_log_context", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` (or a filter).
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def redact(text: str) -> str:
    """Mask every digit run that could be a 個人番号: 12 or more digits, except a valid 13-digit 法人番号.

    Runs shorter than 12 digits stay (ids, amounts, dates). A 13-digit run stays only if it is a valid 法人番号
    whose last 12 digits are not also a valid 個人番号; anything else of 12+ digits is masked (when in doubt, mask).
    """
    if not any(c.isdigit() for c in text):
        return text
    return _DIGIT_RUN.sub(_mask_run, text)


def _mask_run(m: re.Match[str]) -> str:
    run = m.group()
    digits = _NON_DIGIT.sub("", run)
    if len(digits) < 12:
        return run
    ascii_digits = "".join(str(int(c)) for c in digits)  # full-width (any Unicode) digits as 0-9
    if len(ascii_digits) == 13 and corporate_number.is_valid(ascii_digits) \
            and not individual_number.is_valid(ascii_digits[1:]):
        return run  # 法人番号: public, and needed to tell employers apart
    return MASK


def redact_value(value: Any) -> Any:
    """`redact` applied inside strings, lists, tuples and dicts; other objects become their redacted str()."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        text = str(value)
        return value if redact(text) == text else MASK
    if isinstance(value, dict):
        return {redact_value(k) if isinstance(k, str) else k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v) for v in value]
    return redact(str(value))


class RedactFilter(logging.Filter):
    """Masks 個人番号 in a record's message, arguments, extra attributes, exception and stack text.

    Attach it to handlers (a logger's own filters do not see records of its child loggers). The message is
    formatted here, so a 12-digit argument can never reach a formatter.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format: keep what can be shown
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = redact(message), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None  # the formatter would render the raw exception again
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _RECORD_ATTRS:
                setattr(record, key, redact_value(value))
        return True


class ContextFilter(logging.Filter):
    """Copies the current job context (tenant, batch, page and document ids …) onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


@contextlib.contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Within the block, every log record carries these values (None values are left out)."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in values.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**values: Any) -> None:
    """Add values to the current context until the enclosing `log_context` block ends."""
    current = _context.get()
    if current is not None:
        current.update({k: v for k, v in values.items() if v is not None})


def json_formatter() -> logging.Formatter:
    return JsonFormatter("{asctime}{levelname}{name}{message}", style="{", timestamp=False,
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                         datefmt="%Y-%m-%dT%H:%M:%S%z", json_ensure_ascii=False)


class _YomitoriHandler(logging.StreamHandler):
    """Marks the handler `setup_logging` installed, so a second call replaces it instead of adding one."""


def setup_logging(level: int | str = "INFO", *, fmt: str = "json", stream: TextIO | None = None) -> logging.Handler:
    """Send every log record through the context and redaction filters to `stream` (stderr) as JSON lines.

    fmt "text" gives one readable line per record (for a terminal); it is redacted all the same.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _YomitoriHandler)]:
        root.removeHandler(old)
    handler = _YomitoriHandler(stream or sys.stderr)
    handler.setFormatter(json_formatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter())
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    return handler
