"""Experiments, runs, their metric history, logged models, comparisons, and the MLflow run
of a VTM run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from vtm.errors import FieldError, InvalidRequest, NotFound
from vtm.integrations.mlflow.client import VTM_RUN_TAG
from vtm.integrations.mlflow.ops._calls import (
    LATEST_RUNS_SCAN,
    MAX_COMPARE,
    MAX_EXPERIMENTS,
    MAX_LOGGED_MODELS,
    MAX_RUNS,
    calling,
    client_of,
    escape,
    finite,
)
from vtm.settings import Settings

if TYPE_CHECKING:
    from mlflow.entities import Experiment, LoggedModel, Metric, Run


# -- experiments and runs ----------------------------------------------------------------


def experiments(settings: Settings) -> list[Experiment]:
    client = client_of(settings)
    with calling("list experiments"):
        found = client.search_experiments(
            max_results=MAX_EXPERIMENTS, order_by=["last_update_time DESC"]
        )
    return list(found)


def run_activity_ms(found: Run) -> int | None:
    """When ``found`` last did something: its end, or its start while it has not ended."""
    return found.info.end_time or found.info.start_time or None


def latest_run_times(settings: Settings, experiment_ids: Sequence[str]) -> dict[str, int]:
    """Per experiment, the activity time (``run_activity_ms``) of its newest run by start;
    experiments without runs are left out. MLflow's own ``last_update_time`` only moves when
    the experiment itself is edited, so this is what "last update" means to a person.

    One search over every experiment at once; only when that search fills a whole page (more
    runs than ``LATEST_RUNS_SCAN``) is each experiment it did not reach asked on its own."""
    ids = list(experiment_ids)
    if not ids:
        return {}
    client = client_of(settings)
    latest: dict[str, int] = {}
    newest_first = ["attributes.start_time DESC"]
    with calling("find the experiments' latest runs"):
        page = client.search_runs(ids, max_results=LATEST_RUNS_SCAN, order_by=newest_first)
        for found in page:
            when = run_activity_ms(found)
            if when is not None:
                latest.setdefault(found.info.experiment_id, when)
        if page.token:
            for experiment_id in ids:
                if experiment_id in latest:
                    continue
                one = client.search_runs([experiment_id], max_results=1, order_by=newest_first)
                when = run_activity_ms(one[0]) if one else None
                if when is not None:
                    latest[experiment_id] = when
    return latest


def experiment(settings: Settings, experiment_id: str) -> Experiment:
    client = client_of(settings)
    with calling(
        f"read experiment {experiment_id}",
        f"no MLflow experiment {experiment_id!r}",
        malformed=True,
    ):
        return client.get_experiment(experiment_id)


@dataclass(frozen=True)
class RunsPage:
    experiment: Experiment
    runs: list[Run]
    next_page_token: str | None


def runs(
    settings: Settings, experiment_id: str, max_results: int = 100, page_token: str | None = None
) -> RunsPage:
    """An experiment's runs, newest first, at most ``max_results`` of them."""
    from mlflow.exceptions import MlflowException

    found = experiment(settings, experiment_id)
    client = client_of(settings)
    with calling(f"list the runs of experiment {experiment_id}"):
        try:
            page = client.search_runs(
                [found.experiment_id],
                max_results=min(max_results, MAX_RUNS),
                order_by=["attributes.start_time DESC"],
                page_token=page_token,
            )
        except MlflowException as exc:
            if page_token and exc.error_code == "INVALID_PARAMETER_VALUE":
                raise InvalidRequest(
                    [FieldError("pageToken", "not a nextPageToken this server returned")]
                ) from exc
            raise
    return RunsPage(found, list(page), page.token or None)


def run(settings: Settings, run_id: str) -> Run:
    client = client_of(settings)
    with calling(f"read run {run_id}", f"no MLflow run {run_id!r}", malformed=True):
        return client.get_run(run_id)


def logged_models(settings: Settings, found: Run) -> list[LoggedModel]:
    """The models ``found`` logged (MLflow 3 keeps them beside the runs, not in their artifacts)."""
    client = client_of(settings)
    with calling(f"list the models of run {found.info.run_id}"):
        models = client.search_logged_models(
            experiment_ids=[found.info.experiment_id],
            # A run id from MLflow itself: hexadecimal, nothing to escape.
            filter_string=f"source_run_id = '{found.info.run_id}'",
            max_results=MAX_LOGGED_MODELS,
        )
    return sorted(models, key=lambda m: m.creation_timestamp or 0, reverse=True)


def logged_model(settings: Settings, model_id: str) -> LoggedModel:
    client = client_of(settings)
    with calling(
        f"read logged model {model_id}", f"no MLflow logged model {model_id!r}", malformed=True
    ):
        return client.get_logged_model(model_id)


def metric_history(settings: Settings, run_id: str, key: str) -> list[Metric]:
    found = run(settings, run_id)
    if key not in found.data.metrics:
        raise NotFound(f"MLflow run {run_id!r} has no metric {key!r}")
    client = client_of(settings)
    with calling(f"read the history of metric {key!r} of run {run_id}"):
        history = client.get_metric_history(run_id, key)
    return sorted(history, key=lambda m: (m.step, m.timestamp))


# -- comparing runs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One param or metric across the compared runs, in their order (None: not logged)."""

    key: str
    values: list[str | float | None]
    differs: bool


def side_by_side(compared: Sequence[Run]) -> tuple[list[Row], list[Row]]:
    """Params and latest metrics of ``compared`` as rows; a row differs when any two runs
    disagree, a run that lacks the key included."""

    def rows(columns: list[dict[str, str | float | None]]) -> list[Row]:
        keys = sorted({k for column in columns for k in column})
        out = []
        for key in keys:
            values = [column.get(key) for column in columns]
            out.append(Row(key, values, len(set(map(repr, values))) > 1))
        return out

    params: list[dict[str, str | float | None]] = [dict(r.data.params) for r in compared]
    metrics: list[dict[str, str | float | None]] = [
        {k: finite(v) for k, v in r.data.metrics.items()} for r in compared
    ]
    return rows(params), rows(metrics)


def compare(settings: Settings, run_ids: Sequence[str]) -> tuple[list[Run], list[Row], list[Row]]:
    unique = list(dict.fromkeys(run_ids))
    if not 2 <= len(unique) <= MAX_COMPARE:
        raise InvalidRequest(
            [FieldError("runId", f"give 2 to {MAX_COMPARE} different run ids, not {len(unique)}")]
        )
    compared = [run(settings, run_id) for run_id in unique]
    params, metrics = side_by_side(compared)
    return compared, params, metrics


# -- the VTM link ------------------------------------------------------------------------


def linked_run(
    settings: Settings, vtm_run_id: str, mlflow_run_id: str | None
) -> tuple[Run, Literal["stored", "tag"]]:
    """The MLflow run of VTM run ``vtm_run_id`` and how it was found: ``"stored"`` (the id VTM's
    store holds, ``mlflow_run_id``) or ``"tag"`` (the earliest run tagged ``vtm.run_id``, in
    any experiment: the linker only searches the task's own)."""
    if mlflow_run_id:
        try:
            return run(settings, mlflow_run_id), "stored"
        except NotFound:
            pass  # reported, but not in this store (deleted, or another server): try the tag
    client = client_of(settings)
    with calling(f"find the MLflow run tagged {VTM_RUN_TAG}={vtm_run_id}"):
        ids = [e.experiment_id for e in client.search_experiments(max_results=MAX_EXPERIMENTS)]
        found = (
            client.search_runs(
                ids,
                filter_string=f"tags.`{VTM_RUN_TAG}` = '{escape(vtm_run_id)}'",
                max_results=1,
                # The earliest, like the linker: a trainer's main run starts before its others.
                order_by=["attributes.start_time ASC"],
            )
            if ids
            else []
        )
    if not found:
        raise NotFound(f"VTM run {vtm_run_id} has no MLflow run")
    return found[0], "tag"
