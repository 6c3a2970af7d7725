"""How every gatepass command logs: one format, to stderr, at the level it is given."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Formatter(logging.Formatter):
    """The stdlib's formatter with its default time format, the date-and-seconds part computed once per second
    (a busy core writes a line per login and refresh; ``strftime`` was a third of formatting one)."""

    _second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (stdlib name)
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        cached = self._second  # one tuple, swapped whole: threads never see a second with another's text
        if cached[0] != second:
            cached = (second, time.strftime(self.default_time_format, self.converter(record.created)))
            self._second = cached
        msec_format = self.default_msec_format
        return msec_format % (cached[1], record.msecs) if msec_format else cached[1]


def configure_logging(level: str) -> None:
    """Log at ``level`` (debug, info, warning, error) to stderr, as ``time LEVEL logger: message``.

    The core logs a line per session life-cycle event, so a record's cost is on every login and refresh: the
    record attributes this format never shows are not gathered (the logging HOWTO's "Optimization": the caller's
    file and line, thread, process and multiprocessing names)."""
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # no caller lookup (the HOWTO's documented switch)
    logging.basicConfig(level=getattr(logging, level.upper()), handlers=[log_handler(sys.stderr)])


def log_handler(stream: TextIO) -> logging.Handler:
    """A handler writing gatepass's format to ``stream``."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_Formatter(FORMAT))
    return handler
