from __future__ import annotations

import pytest

from studymate_jupyter.client import Backoff


def test_backoff_doubles_from_base_until_the_cap() -> None:
    backoff = Backoff(base=0.5, maximum=8.0, jitter=0.0)
    assert [backoff.delay(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_shortens_each_delay_by_at_most_its_fraction() -> None:
    high = Backoff(base=1.0, maximum=30.0, jitter=0.5, random=lambda: 0.0)
    low = Backoff(base=1.0, maximum=30.0, jitter=0.5, random=lambda: 0.999999)
    assert [high.delay(n) for n in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert [round(low.delay(n), 3) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]


def test_injected_random_makes_the_schedule_exact() -> None:
    draws = iter([0.2, 0.4, 0.6])
    backoff = Backoff(base=1.0, maximum=10.0, factor=3.0, jitter=1.0, random=lambda: next(draws))
    assert [round(backoff.delay(n), 6) for n in range(3)] == [0.8, 1.8, 3.6]


def test_a_huge_attempt_number_stays_at_the_cap() -> None:
    assert Backoff(base=0.5, maximum=30.0, jitter=0.0).delay(10_000) == 30.0


@pytest.mark.parametrize(
    "kwargs", [{"base": 0}, {"base": 2, "maximum": 1}, {"factor": 0.5}, {"jitter": 1.5}]
)
def test_nonsensical_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"need|fraction"):
        Backoff(**kwargs)  # type: ignore[arg-type]
