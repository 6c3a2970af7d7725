"""The signing-key schedule (``gatepass.tokens.key_schedule``) run over time: whatever the intervals and however
irregular the requests, the key that signs is live, was published for one overlap unless nothing else could sign,
and a JWKS is never cached past the next key's publication."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from gatepass.tokens import key_schedule
from gatepass.tokens.key_schedule import KeyTimes
from tests.fuzz_settings import fuzz_settings

HOUR = 3_600_000


@dataclass(frozen=True)
class Key:
    created_at_ms: int


def test_a_young_key_signs_when_the_previous_one_is_past_its_interval() -> None:
    # After an outage longer than the interval there is no older key fit to sign: the new one signs at once.
    times = KeyTimes(update_interval_ms=HOUR, access_validity_ms=60_000)
    keys = [Key(5 * HOUR), Key(0)]
    assert key_schedule.signing_index(keys, 5 * HOUR, times) == 0
    assert key_schedule.signing_index(keys, 5 * HOUR + 59_999, times) == 0
    fresh = [Key(HOUR - 60_000), Key(0)]  # the usual case: the previous key covers the new one's first overlap
    assert key_schedule.signing_index(fresh, HOUR - 1, times) == 1


@fuzz_settings()
@given(
    update_interval_ms=st.integers(5, 10 * HOUR),
    access_validity_ms=st.integers(1_000, 2 * HOUR),
    gaps=st.lists(st.integers(0, 3 * HOUR), min_size=1, max_size=40),
)
def test_schedule_over_time(update_interval_ms: int, access_validity_ms: int, gaps: list[int]) -> None:
    times = KeyTimes(update_interval_ms, access_validity_ms)
    overlap = times.overlap_ms
    assert 0 < overlap <= 60_000 and overlap < update_interval_ms
    keys: list[Key] = []  # newest first, as storage returns them
    now = 1_700_000_000_000
    for gap in gaps:
        now += gap
        keys = [key for key in keys if key_schedule.is_live(key, now, times)]
        if key_schedule.needs_new_key(keys, now, times):
            keys.insert(0, Key(now))
            assert not key_schedule.needs_new_key(keys, now, times)  # one new key per due time, not one per call
        index = key_schedule.signing_index(keys, now, times)
        signer = keys[index]
        assert index in (0, 1) and key_schedule.is_live(signer, now, times)
        if index == 1:  # the newest key is kept back only while it is younger than one overlap
            assert now - keys[0].created_at_ms < overlap
            assert now < signer.created_at_ms + update_interval_ms
        elif len(keys) > 1 and now - keys[0].created_at_ms < overlap:
            assert now >= keys[1].created_at_ms + update_interval_ms  # nothing older was fit to sign
        age_s = key_schedule.jwks_max_age_seconds(keys, now, times)
        next_publication = keys[0].created_at_ms + update_interval_ms - overlap
        assert age_s >= 1 and (age_s == 1 or now + age_s * 1000 <= next_publication)


@given(st.integers(1, 10 * HOUR), st.integers(1, HOUR))
def test_a_key_verifies_for_its_interval_plus_two_validities(update_interval_ms: int, validity_ms: int) -> None:
    times = KeyTimes(update_interval_ms, validity_ms)
    end = 1000 + update_interval_ms + 2 * validity_ms
    assert key_schedule.is_live(Key(1000), end - 1, times)
    assert not key_schedule.is_live(Key(1000), end, times)
