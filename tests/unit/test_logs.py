"""``gatepass.logs``: the one log format, and a formatter whose cached date part never disagrees with the stdlib's
(across second boundaries, out of order, from several threads)."""

from __future__ import annotations

import logging
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from gatepass.logs import FORMAT, _Formatter


def _record(created: float) -> logging.LogRecord:
    record = logging.LogRecord("gatepass.core", logging.INFO, __file__, 1, "session created: %s", ("h",), None)
    record.created = created
    record.msecs = int((created - int(created)) * 1000)
    return record


@settings(max_examples=300, deadline=None)
@given(times=st.lists(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False), min_size=1, max_size=20))
def test_the_cached_time_matches_the_stdlib_formatter(times: list[float]) -> None:
    ours, stdlib = _Formatter(FORMAT), logging.Formatter(FORMAT)
    for created in sorted(times) + times:  # in order (the cache's case) and out of order
        record = _record(created)
        assert ours.format(record) == stdlib.format(record)


def test_an_explicit_date_format_is_honoured() -> None:
    record = _record(1_800_000_000.25)
    assert _Formatter("%(asctime)s", "%Y").format(record) == logging.Formatter("%(asctime)s", "%Y").format(record)


def test_threads_formatting_at_once_each_get_their_own_second() -> None:
    ours, stdlib = _Formatter(FORMAT), logging.Formatter(FORMAT)
    wrong: list[str] = []

    def format_many(offset: int) -> None:
        for i in range(2000):
            record = _record(1_800_000_000 + (i + offset) % 7 + 0.5)
            if ours.format(record) != stdlib.format(record):
                wrong.append(ours.format(record))

    threads = [threading.Thread(target=format_many, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
