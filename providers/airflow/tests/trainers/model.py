"""A training step for the provider's tests that logs a tiny model to MLflow, as a real
trainer would: a pyfunc model (nothing heavy to import) in a run tagged ``vtm.run_id``, whose
id it reports with a VTM_RUN_META line."""

import argparse
import json
import os
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
args = parser.parse_args()

import mlflow  # noqa: E402 - after argparse, so that --help stays fast
import mlflow.pyfunc  # noqa: E402
from vtm.integrations.mlflow.store import sqlite_path, store_lock  # noqa: E402


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return [2 * x for x in model_input]


name = os.environ["MLFLOW_EXPERIMENT_NAME"]
db_file = sqlite_path(os.environ["MLFLOW_TRACKING_URI"])
assert db_file is not None, "the provider's tests use VTM's embedded SQLite store"
with store_lock(db_file):  # the first access to a fresh SQLite store must hold it
    client = mlflow.MlflowClient()
    if client.get_experiment_by_name(name) is None:
        root = Path(os.environ["VTM_MLFLOW_ARTIFACT_ROOT"])
        client.create_experiment(name, artifact_location=(root / name).as_uri())
mlflow.set_experiment(name)
with mlflow.start_run(tags={"vtm.run_id": os.environ["VTM_RUN_ID"]}) as run:
    print("VTM_RUN_META::" + json.dumps({"mlflow_run_id": run.info.run_id}), flush=True)
    for epoch in range(1, args.epochs + 1):
        mlflow.log_metric("score", epoch / args.epochs, step=epoch)
        progress = {"epoch": epoch, "total_epochs": args.epochs, "score": epoch / args.epochs}
        print("VTM_PROGRESS::" + json.dumps(progress), flush=True)
    mlflow.pyfunc.log_model(name="model", python_model=Doubler(), pip_requirements=["mlflow"])
print("done", flush=True)
