"""A real MLflow store with something in every corner the MLflow Ops page shows.

``running_scenario(home)`` starts a real `vtm serve` on ``home`` and, through MLflow's own
client in this process, logs into that server's embedded store (``$VTM_HOME/mlflow``): an
experiment with two runs (params, metric steps, a key with '/', a NaN, artifacts in a folder,
a non-ASCII file name), a logged model, two registry versions with aliases, and three VTM runs:
one whose trainer reported its MLflow run (of a task that declares no MLflow), one linked only
by the vtm.run_id tag and one with none (both of a task that declares it).
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import Server, copy_mlflow_store, wait_for

EXPERIMENT = "ops-vision"
REGISTERED = "ops-classifier"
NOTE = "val/accuracy went up\n"
ODD_NAME = "résumé 1.txt"  # non-ASCII and a space: the download must still name it
ODD_BYTES = b"\x00\x01binary\xff"


@dataclass
class Scenario:
    """The ids of what the scenario logged, and the server that shows them."""

    server: Server
    experiment_id: str
    baseline: str  # MLflow run ids
    lower_lr: str
    model_id: str
    vtm_stored: str  # VTM run whose trainer reported `baseline` as its MLflow run
    vtm_tagged: str  # VTM run that `lower_lr` is tagged with
    vtm_unlinked: str


def tracking_uri(home: Path) -> str:
    return f"sqlite:///{home / 'mlflow' / 'mlflow.db'}"


def _populate(home: Path, vtm_tagged: str) -> dict[str, str]:
    """Log what a sample trainer and a publish would, with MLflow's client (no mocks)."""
    import mlflow
    from mlflow import MlflowClient

    with warnings.catch_warnings():
        # Importing pyfunc infers a schema for one of MLflow's own classes and warns about it.
        warnings.filterwarnings("ignore", "(?s).*Any type hint is inferred as AnyType", UserWarning)
        import mlflow.pyfunc

    uri = tracking_uri(home)
    artifacts = home / "mlflow" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    # The fluent API (how trainers log models) and the registry's look-up of a models:/ source
    # use the global tracking URI (the caller sets it).
    assert mlflow.get_tracking_uri() == uri
    experiment_id = client.create_experiment(
        EXPERIMENT, artifact_location=(artifacts / EXPERIMENT).as_uri(), tags={"team": "cv"}
    )
    now = int(time.time() * 1000)

    # Explicit start times: "newest first" must not depend on the clock's resolution.
    baseline = client.create_run(
        experiment_id,
        start_time=now - 60_000,
        run_name="baseline",
        tags={"vtm.task": "scripted"},
    ).info.run_id
    for key, value in {"lr": "0.01", "epochs": "3", "optimizer": "adam"}.items():
        client.log_param(baseline, key, value)
    for step, (acc, loss) in enumerate([(0.5, 1.0), (0.6, 0.7), (0.75, 0.5)]):
        client.log_metric(baseline, "val/accuracy", acc, step=step, timestamp=now + step)
        client.log_metric(baseline, "loss", loss, step=step, timestamp=now + step)
    notes = home / "notes"
    notes.mkdir()
    (notes / "summary.txt").write_text(NOTE)
    (notes / ODD_NAME).write_bytes(ODD_BYTES)
    client.log_artifacts(baseline, str(notes), artifact_path="notes")
    (home / "top.txt").write_text("top level\n")
    client.log_artifact(baseline, str(home / "top.txt"))

    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: list[int]) -> list[int]:
            return model_input

    with mlflow.start_run(run_id=baseline):
        # pip_requirements given: inferring them would cost seconds.
        info = mlflow.pyfunc.log_model(name="model", python_model=Echo(), pip_requirements=[])
    client.set_terminated(baseline, "FINISHED", end_time=now + 10_000)

    lower_lr = client.create_run(
        experiment_id,
        start_time=now - 30_000,
        run_name="lower-lr",
        tags={"vtm.run_id": vtm_tagged},
    ).info.run_id
    for key, value in {"lr": "0.001", "epochs": "3", "optimizer": "adam", "seed": "7"}.items():
        client.log_param(lower_lr, key, value)
    for step, acc in enumerate([0.4, 0.55]):
        client.log_metric(lower_lr, "val/accuracy", acc, step=step, timestamp=now + step)
    client.log_metric(lower_lr, "loss", float("nan"), step=0, timestamp=now)
    client.set_terminated(lower_lr, "FAILED", end_time=now + 5_000)

    client.create_registered_model(REGISTERED, description="digits")
    for _ in range(2):
        client.create_model_version(
            REGISTERED, source=info.model_uri, run_id=baseline, model_id=info.model_id
        )
    client.set_registered_model_alias(REGISTERED, "champion", "1")
    client.set_registered_model_alias(REGISTERED, "challenger", "2")
    return {
        "experiment_id": experiment_id,
        "baseline": baseline,
        "lower_lr": lower_lr,
        "model_id": info.model_id,
    }


@contextlib.contextmanager
def running_scenario(home: Path, **env: str) -> Iterator[Scenario]:
    """A server on ``home`` (created here) and the scenario in its store; stopped after."""
    import mlflow
    from mlflow import MlflowClient

    home.mkdir(parents=True)
    copy_mlflow_store(home)  # the session's: its tables are not created again here
    server = Server(home, f"sqlite:///{home / 'vtm.db'}", **env)
    if "VTM_TOKEN" in env:
        server.client.headers["Authorization"] = f"Bearer {env['VTM_TOKEN']}"
    server.start()
    try:
        # The server opens the embedded store (its StoreInit) on the first question; a second
        # process opening it at the same moment could break it, so this one waits until it is
        # done.
        wait_for(
            lambda: server.client.get("/api/mlflow/status").json()["reachable"],
            "the embedded MLflow store",
            timeout=120,
            every=0.2,
        )
        # The VTM runs come first: their ids go into the MLflow tags. The tagged run is
        # logged only after its VTM run has ended, so nothing but the tag links the two.
        # Of a task that declares MLflow, so that the UI offers to look their MLflow runs up.
        unlinked = server.start_run("scripted-mlflow", epochs=1)
        tagged = server.start_run("scripted-mlflow", epochs=1)
        for run in (unlinked, tagged):
            assert server.wait_status(run["id"])["status"] == "completed"
        before = os.environ.get("MLFLOW_TRACKING_URI")
        mlflow.set_tracking_uri(tracking_uri(home))
        try:
            ids = _populate(home, tagged["id"])
        finally:
            mlflow.set_tracking_uri(before)  # None: back to unset
        stored = server.start_run(epochs=1, meta_id=ids["baseline"])
        assert server.wait_status(stored["id"])["mlflowRunId"] == ids["baseline"]
        MlflowClient(tracking_uri(home)).set_tag(ids["baseline"], "vtm.run_id", stored["id"])
        yield Scenario(
            server=server,
            experiment_id=ids["experiment_id"],
            baseline=ids["baseline"],
            lower_lr=ids["lower_lr"],
            model_id=ids["model_id"],
            vtm_stored=stored["id"],
            vtm_tagged=tagged["id"],
            vtm_unlinked=unlinked["id"],
        )
    finally:
        server.close()
