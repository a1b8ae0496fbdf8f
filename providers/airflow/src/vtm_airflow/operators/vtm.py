"""Operators that start VTM work from a DAG: a training run, a best-model publish, a report."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowSkipException, AirflowTaskTimeout
from vtm_client import AirflowContext, ApiError

from vtm_airflow.hooks.vtm import VtmHook
from vtm_airflow.triggers.vtm import VtmRunTrigger

# VTM's error code, and the XCom key, of a publish refused by the floor or the gate.
NOT_PUBLISHED = "not_published"


def airflow_context(context: Any) -> AirflowContext:
    """Where a VTM run comes from, stored with it: VTM links a retry's run to the last try's."""
    ti = context["ti"]
    logical = context.get("logical_date")
    return AirflowContext(
        dagId=ti.dag_id,
        runId=ti.run_id,
        taskId=ti.task_id,
        tryNumber=ti.try_number,
        mapIndex=ti.map_index,
        logicalDate=logical.isoformat() if logical is not None else None,
        # Where the task waited: its queue, and the worker Airflow placed it on.
        queue=getattr(getattr(ti, "task", None), "queue", None) or None,
        hostname=getattr(ti, "hostname", None) or None,
    )


class VtmRunOperator(BaseOperator):
    """Start a run of catalog task ``vtm_task`` and succeed only if it ends ``completed``.

    A ``failed`` or ``stopped`` run fails the task, so Airflow's retries apply. Pushes the VTM
    run id (the return value, and key ``vtm_run_id``), ``mlflow_run_id`` and ``progress``.
    ``deferrable=True`` waits in the triggerer instead of a worker slot.
    """

    template_fields: Sequence[str] = ("vtm_task", "fields")
    template_fields_renderers: ClassVar[dict[str, str]] = {"fields": "json"}
    ui_color = "#dbeafe"

    def __init__(
        self,
        *,
        vtm_task: str,
        fields: dict[str, Any] | None = None,
        vtm_conn_id: str = VtmHook.default_conn_name,
        poll_interval: float = 2.0,
        retry_seconds: float = 120.0,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vtm_task = vtm_task
        self.fields = fields or {}
        self.vtm_conn_id = vtm_conn_id
        self.poll_interval = poll_interval
        self.retry_seconds = retry_seconds
        self.deferrable = deferrable
        self._vtm_run_id: str | None = None

    def _hook(self) -> VtmHook:
        return VtmHook(self.vtm_conn_id, retry_seconds=self.retry_seconds)

    def execute(self, context: Any) -> str:
        hook = self._hook()
        try:
            run = hook.start_run(self.vtm_task, dict(self.fields), airflow_context(context))
            self._vtm_run_id = run["id"]
            context["ti"].xcom_push(key="vtm_run_id", value=run["id"])
            self.log.info("VTM run %s of task %s started", run["id"], self.vtm_task)
            if self.deferrable:
                self.defer(
                    trigger=VtmRunTrigger(
                        run_id=run["id"],
                        vtm_conn_id=self.vtm_conn_id,
                        poll_interval=self.poll_interval,
                        retry_seconds=self.retry_seconds,
                        deadline=self._deadline(context),
                    ),
                    method_name="execute_complete",
                )
            ended = hook.wait_for_run(run["id"], self.poll_interval)
        finally:
            hook.close()
        return self._finish(context, ended)

    def _deadline(self, context: Any) -> float | None:
        """When a deferred wait must give up (Unix time), from ``execution_timeout``.

        Airflow enforces ``execution_timeout`` only while ``execute`` runs, not while a trigger
        waits, so the trigger carries the deadline and stops the run itself.
        """
        if self.execution_timeout is None:
            return None
        started = getattr(context["ti"], "start_date", None)
        begin = started.timestamp() if started is not None else time.time()
        return begin + self.execution_timeout.total_seconds()

    def execute_complete(self, context: Any, event: dict[str, Any]) -> str:
        run = event.get("run")
        self._vtm_run_id = run["id"] if run else event.get("runId")
        if event["status"] == "timeout" and run is not None:
            self._push_outcome(context, run)
            raise AirflowTaskTimeout(
                f"VTM run {run['id']} stopped: still {run['status']} after the "
                f"execution_timeout of {self.execution_timeout}"
            )
        if event["status"] != "ended" or run is None:
            raise AirflowException(event.get("message", f"waiting for VTM failed: {event}"))
        return self._finish(context, run)

    def _push_outcome(self, context: Any, run: dict[str, Any]) -> None:
        ti = context["ti"]
        ti.xcom_push(key="mlflow_run_id", value=run.get("mlflowRunId"))
        ti.xcom_push(key="progress", value=run.get("progress") or {})

    def _finish(self, context: Any, run: dict[str, Any]) -> str:
        self._push_outcome(context, run)
        if run["status"] != "completed":
            reason = run.get("error") or f"exit code {run.get('exitCode')}"
            raise AirflowException(
                f"VTM run {run['id']} of task {run['taskId']} ended {run['status']}: {reason}"
            )
        self.log.info("VTM run %s completed", run["id"])
        return str(run["id"])

    def on_kill(self) -> None:
        """Stop the training too: an Airflow timeout or a killed task must not leave it running.

        (A deferred task that a person clears is the trigger's ``on_kill``.)
        """
        if self._vtm_run_id is not None:
            self.log.info("stopping VTM run %s", self._vtm_run_id)
            run = self._hook().stop_run(self._vtm_run_id)
            self.log.info("VTM run %s is %s", run["id"], run["status"])


class VtmPublishOperator(BaseOperator):
    """Publish a model of ``vtm_task`` (VTM's ``POST /api/publish``); pushes the result.

    With ``vtm_run_id`` it publishes that run (the one a training step of this DAG run made:
    template it from that step's XCom ``vtm_run_id``), else the task's best by ``metric``. With
    ``gate=True`` VTM first judges the model — by ``metric`` of ``evaluation_run_id`` (an
    evaluation step's run; then ``metric`` and ``goal`` are the evaluation's, default its task's
    primary metric), else by the metric runs are ranked by — at least ``min_metric``, better than
    the current champion unless ``against_champion=False``; the task's floor from the catalog
    always applies. A model that does not pass skips this task, the reason in its log and in
    XCom ``not_published``.
    """

    template_fields: Sequence[str] = (
        "vtm_task",
        "vtm_run_id",
        "evaluation_run_id",
        "metric",
        "goal",
        "since",
        "alias",
    )
    ui_color = "#dcfce7"

    def __init__(
        self,
        *,
        vtm_task: str,
        vtm_run_id: str | None = None,
        evaluation_run_id: str | None = None,
        metric: str | None = None,
        goal: str | None = None,
        since: str | None = None,
        alias: str | None = None,
        gate: bool = False,
        min_metric: float | None = None,
        against_champion: bool = True,
        vtm_conn_id: str = VtmHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vtm_task, self.metric, self.goal = vtm_task, metric, goal
        self.since, self.alias, self.vtm_conn_id = since, alias, vtm_conn_id
        self.vtm_run_id, self.evaluation_run_id = vtm_run_id, evaluation_run_id
        self.gate, self.min_metric, self.against_champion = gate, min_metric, against_champion

    def _gate(self) -> dict[str, Any] | None:
        if not self.gate:
            return None
        body: dict[str, Any] = {"againstChampion": self.against_champion}
        if self._evaluated():
            body.update(evaluationRunId=self.evaluation_run_id, metric=self.metric, goal=self.goal)
        if self.min_metric is not None:
            body["minMetric"] = self.min_metric
        return body

    def _evaluated(self) -> bool:
        return _given(self.evaluation_run_id)

    def execute(self, context: Any) -> dict[str, Any]:
        if self.vtm_run_id is not None and not _given(self.vtm_run_id):
            raise AirflowException(
                f"no VTM run to publish: vtm_run_id rendered as {self.vtm_run_id!r} "
                "(did the training step push its vtm_run_id?)"
            )
        hook = VtmHook(self.vtm_conn_id)
        # The evaluation's metric judges the model; the publish itself ranks by the task's own.
        ranked_by = None if self._evaluated() else self.metric
        try:
            result = hook.publish(
                self.vtm_task,
                runId=self.vtm_run_id,
                metric=ranked_by,
                goal=None if self._evaluated() else self.goal,
                since=self.since,
                alias=self.alias,
                gate=self._gate(),
            )
        except ApiError as exc:
            if exc.code != NOT_PUBLISHED:
                raise
            self.log.info("not published: %s", exc.message)
            context["ti"].xcom_push(key=NOT_PUBLISHED, value=exc.message)
            raise AirflowSkipException(f"not published: {exc.message}") from None
        finally:
            hook.close()
        self.log.info(
            "published %s version %s (%s)",
            result.get("registeredModel"),
            result.get("version"),
            "already published" if result.get("alreadyPublished") else "new",
        )
        for note in result.get("notes") or []:
            self.log.info("note: %s", note)
        return result


def _given(value: str | None) -> bool:
    """A templated id that rendered to something (an XCom that is missing renders "None")."""
    return value is not None and value.strip() not in ("", "None")


class VtmReportOperator(BaseOperator):
    """Fetch VTM's quality report; write it to ``output_path`` (html or md) when given.

    Returns the report's JSON summary, so a downstream task can act on the numbers.
    """

    template_fields: Sequence[str] = ("since", "vtm_task", "output_path")

    def __init__(
        self,
        *,
        since: str = "7d",
        vtm_task: str | None = None,
        output_path: str | None = None,
        fmt: str = "html",
        vtm_conn_id: str = VtmHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.since, self.vtm_task, self.output_path = since, vtm_task, output_path
        self.fmt, self.vtm_conn_id = fmt, vtm_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        hook = VtmHook(self.vtm_conn_id)
        try:
            if self.output_path:
                path = Path(self.output_path)
                path.parent.mkdir(parents=True, exist_ok=True)
                page = hook.report(self.since, self.vtm_task, self.fmt)
                path.write_text(page, encoding="utf-8")
                self.log.info("quality report written to %s", path)
            summary: dict[str, Any] = hook.report(self.since, self.vtm_task, "json")
        finally:
            hook.close()
        return summary
