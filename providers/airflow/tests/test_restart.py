"""VTM restarts while an operator waits for its run: the hook's retries ride it out.

The run's detached supervisor keeps the trainer going while no server is there (VTM's design);
the server comes back on the same port and home, the operator's next poll reaches it, and the
task ends as the run does.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from dag_runs import states, xcom
from vtm_server import VtmServer, wait_for

POLL_INTERVAL = 0.2  # the DAGs' poll_interval (dag_files/vtm_test_dags.py)


@pytest.mark.parametrize("mode", ["sync", "deferred"])
def test_a_vtm_restart_during_the_wait_is_ridden_out(
    dags: dict[str, Any], test_vtm: VtmServer, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    dag_id = f"restart-{mode}"
    seen: dict[str, Any] = {}
    errors: list[Exception] = []

    def restart_vtm_while_waiting() -> None:
        try:

            def waiting_run() -> dict[str, Any] | None:
                found = [r for r in test_vtm.runs_of(dag_id) if r["status"] == "running"]
                if found and found[0]["progress"].get("epoch") == 1:
                    return found[0]
                return None

            run = wait_for(waiting_run, f"the {dag_id} run to wait for its release", 120)
            seen["run"] = run
            test_vtm.stop()
            # The outage itself: the server stays away for several of the operator's polls.
            time.sleep(5 * POLL_INTERVAL)
            test_vtm.start()
            seen["after_restart"] = test_vtm.run(run["id"])
        except Exception as exc:  # noqa: BLE001 - the test reports it, not the thread
            errors.append(exc)
        finally:
            if "run" in seen:
                test_vtm.release(seen["run"]["id"])

    helper = threading.Thread(target=restart_vtm_while_waiting, daemon=True)
    helper.start()
    dag_run = dags[dag_id].test()
    helper.join(60)

    assert not errors, errors
    assert not helper.is_alive()
    # The operator found the server gone, and the run went on meanwhile.
    unanswered = f"VTM did not answer GET /api/runs/{seen['run']['id']}"
    assert any(unanswered in record.getMessage() for record in caplog.records)
    assert seen["after_restart"]["status"] == "running"
    assert dag_run.state == "success", states(dag_run)
    (run,) = test_vtm.runs_of(dag_id, dag_run.run_id)
    assert run["id"] == seen["run"]["id"] == xcom(dag_run, "wait")
    assert run["status"] == "completed"
