"""Time forms: ``Now``, ``Time``, ``Epoch``, ``Date``, ``TimeAdd``, ``TimeSubtract``, ``TimeDiff``, ``ToMillis``...

Times are nanoseconds since the epoch, limited to the instants our wire format can print (years 1 to 9999; the
engine's range is wider and it answers ``invalid argument`` past it, as we do past ours). Offsets are 64-bit
integers, as the engine's are.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from gatepass.faunadev.errors import invalid_argument
from gatepass.faunadev.forms import Env, Evaluation, Handler, Pos, form
from gatepass.faunadev.limits import wrap64
from gatepass.faunadev.pure import long_divide
from gatepass.faunadev.values import Date, Time, parse_time

UNITS_NS = {
    "day": 86_400_000_000_000,
    "half day": 43_200_000_000_000,
    "hour": 3_600_000_000_000,
    "minute": 60_000_000_000,
    "second": 1_000_000_000,
    "millisecond": 1_000_000,
    "microsecond": 1_000,
    "nanosecond": 1,
}
# the instants Python's datetime (and so our wire format) can show: years 1 to 9999
MIN_TIME_NS = int(dt.datetime(1, 1, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
MAX_TIME_NS = int(dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC).timestamp()) * 1_000_000_000 + 999_999_999


def make_time(nanos: int, pos: Pos) -> Time:
    """A Time, or ``invalid argument`` outside the instants we can print."""
    if not MIN_TIME_NS <= nanos <= MAX_TIME_NS:
        raise invalid_argument(
            pos, "dates and times must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999999Z"
        )
    return Time(nanos)


# Parsers of the caller's text answer None, not their exceptions: those quote the whole text, which may be a secret
# (a query can pass a token's secret to Time or Date), and an error raised while one is being handled keeps it as
# its context, for any log that prints the chain.
def read_time(text: str) -> int | None:
    """The instant an ISO-8601 text names, in nanoseconds since the epoch, or None."""
    try:
        return parse_time(text)
    except (ValueError, OverflowError):
        return None


def read_date(text: Any) -> dt.date | None:
    """The day an ISO-8601 text names, or None (for anything else, too)."""
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def unit_ns(ev: Evaluation, unit: Any, pos: Pos) -> int:
    """Nanoseconds in a time unit (``second``, ``seconds``, ``half day``...), or ``invalid argument``."""
    text = ev.string(unit, pos)
    name = "half day" if text in ("half day", "half days") else text.lower().removesuffix("s")
    if name not in UNITS_NS:
        raise invalid_argument(pos, f"Invalid time unit '{text[:32]}'.")
    return UNITS_NS[name]


# time ------------------------------------------------------------------------------------------------------------
@form("now")
def _now(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    return Time(ev.tx.now_ns)


@form("time")
def _time(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    text = ev.string(ev.arg(expr, "time", env, pos), [*pos, "time"])
    if text == "now":
        return Time(ev.tx.now_ns)
    nanos = read_time(text)
    if nanos is None:
        raise invalid_argument(pos, f"Cannot cast '{text[:64]}' to a time.")
    return make_time(nanos, pos)


@form("epoch", required=("unit",))
def _epoch(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    amount = ev.integer(ev.arg(expr, "epoch", env, pos), [*pos, "epoch"])
    return make_time(amount * unit_ns(ev, ev.arg(expr, "unit", env, pos), [*pos, "unit"]), pos)


def _shift(name: str, sign: int) -> Handler:
    """Register ``{name: time or date, offset, unit}``: the instant (or day) ``sign * offset`` units away."""

    @form(name, required=("offset", "unit"))
    def handler(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        base = ev.arg(expr, name, env, pos)
        offset = ev.integer(ev.arg(expr, "offset", env, pos), [*pos, "offset"])
        unit = unit_ns(ev, ev.arg(expr, "unit", env, pos), [*pos, "unit"])
        if isinstance(base, Date):
            if unit != UNITS_NS["day"]:
                raise invalid_argument([*pos, "unit"], "Date values can only be shifted by days.")
            try:
                return Date(base.day + dt.timedelta(days=sign * offset))
            except OverflowError as exc:  # "date value out of range": nothing of the caller's in it
                raise invalid_argument(pos, "dates and times must be between 0001-01-01 and 9999-12-31") from exc
        return make_time(ev.time(base, [*pos, name]).nanos + sign * offset * unit, pos)

    return handler


_time_add = _shift("time_add", 1)
_time_subtract = _shift("time_subtract", -1)


@form("time_diff", required=("other", "unit"))
def _time_diff(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    start = ev.time(ev.arg(expr, "time_diff", env, pos), [*pos, "time_diff"])
    other = ev.time(ev.arg(expr, "other", env, pos), [*pos, "other"])
    unit = unit_ns(ev, ev.arg(expr, "unit", env, pos), [*pos, "unit"])
    return long_divide(other.nanos - start.nanos, unit)


def _to_unit(name: str, divisor: int) -> Handler:
    """Register ``{name: time}``: the time in units of ``divisor`` nanoseconds since the epoch (numbers pass)."""

    @form(name)
    def handler(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
        value = ev.arg(expr, name, env, pos)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return wrap64(int(value))
        return ev.time(value, [*pos, name]).nanos // divisor

    return handler


_to_millis = _to_unit("to_millis", 1_000_000)
_to_micros = _to_unit("to_micros", 1_000)
_to_seconds = _to_unit("to_seconds", 1_000_000_000)


@form("date")
def _date(ev: Evaluation, expr: dict[str, Any], env: Env, pos: Pos) -> Any:
    text = ev.string(ev.arg(expr, "date", env, pos), [*pos, "date"])
    day = read_date(text)
    if day is None:
        raise invalid_argument(pos, f"Cannot cast '{text[:64]}' to a date.")
    return Date(day)
