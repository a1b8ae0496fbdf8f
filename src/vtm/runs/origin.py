"""Where a run came from (stored as its ``origin``): a person, an Airflow task try, `vtm exec`.

An Airflow retry's run is linked to the run of the previous try of the same task instance,
whichever way it was started (the provider's operator or `vtm exec` in a BashOperator).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vtm.store.records import AIRFLOW_ID_LEN

if TYPE_CHECKING:
    from vtm.store import RunRepository

# What Airflow puts into a BashOperator's environment (airflow.sdk's context_to_airflow_vars).
AIRFLOW_ENV = {
    "dagId": "AIRFLOW_CTX_DAG_ID",
    "runId": "AIRFLOW_CTX_DAG_RUN_ID",
    "taskId": "AIRFLOW_CTX_TASK_ID",
    "tryNumber": "AIRFLOW_CTX_TRY_NUMBER",
    "logicalDate": "AIRFLOW_CTX_LOGICAL_DATE",
}
# Where the try ran, which Airflow's variables leave out: vtm-airflow's exec operator adds them.
AIRFLOW_PLACE_ENV = {"queue": "VTM_AIRFLOW_QUEUE", "hostname": "VTM_AIRFLOW_HOSTNAME"}


def link_previous_try(
    repo: RunRepository, task_id: str, origin: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``origin`` with ``previousTryRunId`` set when it names an Airflow task try."""
    linked = dict(origin or {})
    airflow = linked.get("airflow")
    if airflow:
        previous = repo.previous_try(task_id, airflow)
        linked["previousTryRunId"] = previous.id if previous else None
    return linked


def airflow_from_env(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The Airflow task try that runs this process, from the ``AIRFLOW_CTX_*`` variables;
    None outside Airflow. ValueError names a variable that does not hold what it should."""
    if not environ.get(AIRFLOW_ENV["dagId"]):
        return None
    context: dict[str, Any] = {"mapIndex": -1, "logicalDate": None}
    for key, name in AIRFLOW_ENV.items():
        value = environ.get(name, "").strip()
        if key == "logicalDate":
            context[key] = value or None  # a manual DAG run in Airflow 3 may have none
        elif not value:
            raise ValueError(f"{name} is not set, though AIRFLOW_CTX_DAG_ID is")
        elif key == "tryNumber":
            if not value.isdigit():
                raise ValueError(f"{name} must be a whole number, got {value!r}")
            context[key] = int(value)
        elif len(value) > AIRFLOW_ID_LEN:
            raise ValueError(f"{name} is longer than Airflow's {AIRFLOW_ID_LEN} characters")
        else:
            context[key] = value
    for key, name in AIRFLOW_PLACE_ENV.items():
        if value := environ.get(name, "").strip():
            context[key] = value
    return context
