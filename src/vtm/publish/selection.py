"""Which run to publish: the best completed run of a task that is linked to an MLflow run,
logged the metric, and has a logged model.

A VTM run is linked to an MLflow run by the ``mlflowRunId`` its trainer reported
(``VTM_RUN_META``) or, failing that, by an MLflow run in the task's experiment tagged
``vtm.run_id`` with the VTM run's id. The value compared is the MLflow run's final value of the
metric (its latest step), not the best value of its history. Ties go to the newer run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from vtm.errors import Conflict, FieldError, InvalidRequest, NotFound, UpstreamError
from vtm.integrations.mlflow import VTM_RUN_TAG, mlflow_errors
from vtm.states import RunStatus
from vtm.store import RunData, RunRepository, experiment_of

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModel, Run

Goal = Literal["max", "min"]
PAGE = 500
ID_BATCH = 100
UNKNOWN_RUN = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


@dataclass(frozen=True)
class Candidate:
    """A run that could be published, with what publishing needs to know of it."""

    vtm_run: RunData
    mlflow_run: Run
    value: float

    @property
    def mlflow_run_id(self) -> str:
        return str(self.mlflow_run.info.run_id)


@dataclass(frozen=True)
class Choice:
    """The winner and its logged model."""

    candidate: Candidate
    model: LoggedModel

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model.model_id}"


def completed_runs(repo: RunRepository, task: str, since: float | None) -> list[RunData]:
    """The task's completed runs, finished within the last ``since`` seconds if given."""
    cutoff = datetime.now(UTC) - timedelta(seconds=since) if since else None
    return [
        run
        for run in _all_pages(repo, task)
        if cutoff is None or (run.finished_at is not None and run.finished_at >= cutoff)
    ]


def _all_pages(repo: RunRepository, task: str) -> Iterator[RunData]:
    before: int | None = None
    while True:
        runs, before = repo.page(
            statuses=[RunStatus.COMPLETED], task_id=task, limit=PAGE, before_seq=before
        )
        yield from runs
        if before is None:
            return


def link_runs(
    client: MlflowClient, experiment: str, runs: list[RunData]
) -> list[tuple[RunData, Run]]:
    """Each VTM run that has an MLflow run, with it. ``experiment`` is the task's; a run
    started under another experiment name (the catalog changed since) is looked for there."""
    from mlflow.exceptions import MlflowException

    experiment_ids: dict[str, str | None] = {}

    def experiment_id(name: str) -> str | None:
        if name not in experiment_ids:
            with mlflow_errors(f"read experiment {name!r}"):
                found = client.get_experiment_by_name(name)
            experiment_ids[name] = str(found.experiment_id) if found is not None else None
        return experiment_ids[name]

    names = {experiment, *(experiment_of(r) for r in runs)}
    searched = sorted({i for i in map(experiment_id, names) if i is not None})
    by_id: dict[str, Run] = {}
    stored = [r.mlflow_run_id for r in runs if r.mlflow_run_id]
    if searched:
        # Most runs log to their task's experiment: fetch those a batch at a time.
        for i in range(0, len(stored), ID_BATCH):
            batch = ", ".join(f"'{_quoted(x)}'" for x in stored[i : i + ID_BATCH])
            with mlflow_errors("search runs"):
                for run in _search(client, searched, f"attributes.run_id IN ({batch})"):
                    by_id[run.info.run_id] = run
    linked: list[tuple[RunData, Run]] = []
    for vtm_run in runs:
        mlflow_run: Run | None = None
        if vtm_run.mlflow_run_id:
            mlflow_run = by_id.get(vtm_run.mlflow_run_id)
            if mlflow_run is None:
                try:
                    mlflow_run = client.get_run(vtm_run.mlflow_run_id)
                except MlflowException as exc:
                    # An id the store does not know (deleted, or another store's) links nothing.
                    if exc.error_code not in UNKNOWN_RUN:
                        raise UpstreamError(
                            f"MLflow could not read run {vtm_run.mlflow_run_id}: {exc.message}"
                        ) from exc
        if mlflow_run is None:
            tagged_in = experiment_id(experiment_of(vtm_run))
            if tagged_in is not None:
                mlflow_run = _tagged(client, tagged_in, vtm_run.id)
        if mlflow_run is not None and mlflow_run.info.lifecycle_stage == "active":
            linked.append((vtm_run, mlflow_run))
    return linked


def _tagged(client: MlflowClient, experiment_id: str, vtm_run_id: str) -> Run | None:
    """The MLflow run of the experiment tagged with ``vtm_run_id``; the earliest started when
    there are several (a trainer's main run starts before any nested one), as the linker does."""
    with mlflow_errors("search runs by tag"):
        runs = client.search_runs(
            [experiment_id],
            filter_string=f"tags.`{VTM_RUN_TAG}` = '{_quoted(vtm_run_id)}'",
            order_by=["attributes.start_time ASC"],
            max_results=1,
        )
    return runs[0] if runs else None


def _search(client: MlflowClient, experiment_ids: list[str], filter_string: str) -> Iterator[Run]:
    token: str | None = None
    while True:
        page = client.search_runs(
            experiment_ids, filter_string=filter_string, max_results=1000, page_token=token
        )
        yield from page
        token = page.token
        if not token:
            return


def _quoted(value: str) -> str:
    # Run ids are hex and VTM ids are validated, but a stored id comes from a trainer.
    return value.replace("\\", "\\\\").replace("'", "\\'")


def ranked(linked: list[tuple[RunData, Run]], metric: str, goal: Goal) -> list[Candidate]:
    """Runs that logged ``metric``, best first; on equal values the newer run first."""
    candidates = [
        Candidate(vtm_run, run, float(run.data.metrics[metric]))
        for vtm_run, run in linked
        if metric in run.data.metrics and not math.isnan(run.data.metrics[metric])
    ]
    sign = -1.0 if goal == "max" else 1.0
    return sorted(candidates, key=lambda c: (sign * c.value, *_newest_first(c.vtm_run)))


def _newest_first(run: RunData) -> tuple[float, int]:
    finished = run.finished_at or run.created_at
    return (-finished.timestamp(), -run.seq)


def logged_model(client: MlflowClient, run: Run) -> LoggedModel | None:
    """The run's model: the ready one it logged at its latest step (as ``mlflow.register_model``
    picks), or the newest ready model whose source is the run."""
    from mlflow.entities import LoggedModelStatus

    with mlflow_errors(f"read the models of run {run.info.run_id}"):
        outputs = run.outputs.model_outputs if run.outputs else []
        ids = [o.model_id for o in sorted(outputs, key=lambda o: o.step, reverse=True)]
        models = [client.get_logged_model(i) for i in dict.fromkeys(ids)]
        if not models:
            models = sorted(
                client.search_logged_models(
                    [run.info.experiment_id],
                    filter_string=f"source_run_id = '{_quoted(run.info.run_id)}'",
                ),
                key=lambda m: m.creation_timestamp,
                reverse=True,
            )
    return next((m for m in models if m.status == LoggedModelStatus.READY), None)


def choose(
    client: MlflowClient,
    repo: RunRepository,
    *,
    task: str,
    experiment: str,
    metric: str,
    goal: Goal,
    since: float | None,
    since_text: str | None,
) -> Choice:
    """The run to publish; NotFound saying why when there is none."""
    window = f" in the last {since_text}" if since_text else ""
    runs = completed_runs(repo, task, since)
    if not runs:
        raise NotFound(f"no completed run of task {task!r}{window}: nothing to publish")
    linked = link_runs(client, experiment, runs)
    if not linked:
        raise NotFound(
            f"none of the {len(runs)} completed run(s) of task {task!r}{window} is linked to "
            f"an MLflow run (its trainer reported no mlflow_run_id, and no run of experiment "
            f"{experiment!r} is tagged {VTM_RUN_TAG})"
        )
    candidates = ranked(linked, metric, goal)
    if not candidates:
        raise NotFound(
            f"none of the {len(linked)} MLflow-linked completed run(s) of task {task!r}{window} "
            f"logged metric {metric!r}"
        )
    for candidate in candidates:
        model = logged_model(client, candidate.mlflow_run)
        if model is not None:
            return Choice(candidate, model)
    raise NotFound(
        f"none of the {len(candidates)} completed run(s) of task {task!r}{window} that logged "
        f"{metric!r} has a logged model (mlflow.<flavor>.log_model)"
    )


def choose_run(
    client: MlflowClient,
    repo: RunRepository,
    *,
    task: str,
    experiment: str,
    run_id: str,
    metric: str,
) -> Choice:
    """``run_id`` itself (a pipeline publishes the run it trained), if it can be published:
    a completed run of ``task``, linked to an MLflow run that logged ``metric`` and a model."""
    run = repo.get(run_id)
    if run.task_id != task:
        raise InvalidRequest(
            [FieldError("runId", f"run {run_id} is of {run.task_id!r}, not {task!r}")]
        )
    if run.status is not RunStatus.COMPLETED:
        raise Conflict(f"run {run_id} is {run.status.value}: only a completed run is published")
    linked = link_runs(client, experiment, [run])
    if not linked:
        raise NotFound(
            f"run {run_id} is not linked to an MLflow run (its trainer reported no "
            f"mlflow_run_id, and no run of experiment {experiment!r} is tagged {VTM_RUN_TAG})"
        )
    candidates = ranked(linked, metric, "max")
    if not candidates:
        raise NotFound(f"the MLflow run of run {run_id} logged no {metric!r}")
    model = logged_model(client, candidates[0].mlflow_run)
    if model is None:
        raise NotFound(
            f"run {run_id} has no logged model (mlflow.<flavor>.log_model): nothing to publish"
        )
    return Choice(candidates[0], model)
