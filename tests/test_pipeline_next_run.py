"""The Pipelines page's "next run": when a pipeline's schedule next fires, read in UTC as
Airflow reads a cron, never before the pipeline's start date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from vtm.api.pipeline_schemas import next_run_at

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
START = date(2026, 1, 1)


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("0 2 * * *", datetime(2026, 11, 27, 2, 0, tzinfo=UTC)),
        ("30 12 * * *", datetime(2026, 11, 26, 12, 30, tzinfo=UTC)),
        ("0 6 * * 1", datetime(2026, 11, 30, 6, 0, tzinfo=UTC)),  # Mondays
        ("@hourly", datetime(2026, 11, 26, 13, 0, tzinfo=UTC)),
        ("@daily", datetime(2026, 11, 27, 0, 0, tzinfo=UTC)),
        ("@weekly", datetime(2026, 11, 29, 0, 0, tzinfo=UTC)),  # Sunday midnight
        ("@monthly", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
        (None, None),  # on demand
        ("@once", None),  # Airflow runs it once, when the DAG is first unpaused
    ],
)
def test_the_next_fire_time_in_utc(schedule: str | None, expected: datetime | None) -> None:
    assert next_run_at(schedule, START, NOW) == expected


def test_a_fire_time_that_is_now_has_happened() -> None:
    at_two = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert next_run_at("0 2 * * *", START, at_two) == at_two + timedelta(days=1)


def test_nothing_runs_before_the_start_date_and_a_fire_on_it_counts() -> None:
    later = date(2027, 3, 1)
    assert next_run_at("0 0 * * *", later, NOW) == datetime(2027, 3, 1, tzinfo=UTC)
    assert next_run_at("0 2 * * *", later, NOW) == datetime(2027, 3, 1, 2, 0, tzinfo=UTC)


def test_a_clock_in_another_zone_gives_the_same_instant_in_utc() -> None:
    berlin = NOW.astimezone(timezone(timedelta(hours=1)))
    found = next_run_at("0 2 * * *", START, berlin)
    assert found == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    assert found is not None and found.utcoffset() == timedelta(0)
