"""The MLflow page's "Last update": each experiment's newest run's end (or start while it runs),
found with one search over every experiment, against a real embedded MLflow store."""

from __future__ import annotations

from typing import Any

import pytest

from vtm.integrations.mlflow import ops, tracking_client
from vtm.integrations.mlflow.ops import tracking
from vtm.integrations.mlflow.store import init_store
from vtm.settings import Settings

T0 = 1_800_000_000_000  # ms


def _store(settings: Settings) -> tuple[Any, dict[str, str]]:
    init_store(settings)
    client = tracking_client(settings)
    ids = {name: client.create_experiment(name) for name in ("busy", "running", "idle", "empty")}
    # busy: the newest run by start ended before an older, longer one; the newest counts.
    old = client.create_run(ids["busy"], start_time=T0).info.run_id
    client.set_terminated(old, "FINISHED", end_time=T0 + 90_000)
    new = client.create_run(ids["busy"], start_time=T0 + 10_000).info.run_id
    client.set_terminated(new, "FINISHED", end_time=T0 + 20_000)
    # running: no end yet, so its start.
    client.create_run(ids["running"], start_time=T0 + 50_000)
    # idle: one old finished run.
    idle = client.create_run(ids["idle"], start_time=T0 - 500_000).info.run_id
    client.set_terminated(idle, "FAILED", end_time=T0 - 400_000)
    return client, ids


def test_each_experiment_gets_its_newest_runs_time_from_one_search(
    mlflow_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ids = _store(mlflow_settings)
    searches: list[list[str]] = []
    search = client.search_runs

    def counted(experiment_ids: list[str], *args: Any, **kwargs: Any) -> Any:
        searches.append(list(experiment_ids))
        return search(experiment_ids, *args, **kwargs)

    monkeypatch.setattr(client, "search_runs", counted)
    expected = {
        ids["busy"]: T0 + 20_000,
        ids["running"]: T0 + 50_000,
        ids["idle"]: T0 - 400_000,
    }
    assert ops.latest_run_times(mlflow_settings, list(ids.values())) == expected
    assert len(searches) == 1

    # More runs than one search reads: the experiments it did not reach are asked one by one.
    searches.clear()
    monkeypatch.setattr(tracking, "LATEST_RUNS_SCAN", 2)
    assert ops.latest_run_times(mlflow_settings, list(ids.values())) == expected
    assert searches[0] == list(ids.values())
    assert sorted(map(tuple, searches[1:])) == sorted([(ids["idle"],), (ids["empty"],)])
    assert ops.latest_run_times(mlflow_settings, []) == {}
