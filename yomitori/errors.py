"""Exceptions and process exit codes shared by the whole of yomitori."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of the ``yomitori`` command; scripts and RPA bots branch on these."""

    ok = 0
    other_error = 1  # also what Python itself exits with on an uncaught exception
    bad_args = 2  # same as typer/click usage errors
    input_file = 3
    missing_dependency = 4
    file_access_error = 5  # an output or work file cannot be written
    invalid_config = 6  # a settings file or form template is malformed
    ctrl_c = 130  # 128 + SIGINT, the shell convention


class YomitoriError(Exception):
    """Base class of the errors the CLI reports as a message (no traceback) and an exit code.

    The message should say what is wrong and how to fix it, in words an operator understands.
    """

    exit_code: ExitCode = ExitCode.other_error

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(YomitoriError):
    """An input file cannot be read: missing, empty, not an image or PDF, damaged, encrypted..."""

    exit_code = ExitCode.input_file

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source  # the path as the user gave it, if known

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


class MissingDependency(YomitoriError):
    """A program, library or model file yomitori needs is not installed or cannot be found."""

    exit_code = ExitCode.missing_dependency
