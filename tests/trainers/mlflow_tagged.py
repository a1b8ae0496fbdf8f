"""A test trainer that logs to MLflow and tags its run ``vtm.run_id`` but prints no
VTM_RUN_META line: VTM must link it by the tag alone.

It prints the MLflow variables VTM gave it (``mlflowenv::``) and the id of the MLflow run it
made (``mlflow-run::``, an ordinary log line, not protocol). With --gate_dir it waits after
creating its MLflow run until ``<gate_dir>/<VTM_RUN_ID>`` exists. With --leave_open it exits
(with --exit_code) without ending its MLflow run, as a crashing trainer would; --meta also
reports the MLflow run with a VTM_RUN_META line.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--gate_dir", default="")
parser.add_argument("--leave_open", action="store_true")
parser.add_argument("--meta", action="store_true")
parser.add_argument("--exit_code", type=int, default=0)
args = parser.parse_args()

print(
    "mlflowenv::"
    + json.dumps({k: v for k, v in os.environ.items() if k.startswith(("MLFLOW_", "VTM_MLFLOW"))}),
    flush=True,
)

from mlflow import MlflowClient  # noqa: E402

from vtm.integrations.mlflow.store import sqlite_path, store_lock  # noqa: E402

name = os.environ["MLFLOW_EXPERIMENT_NAME"]
db_file = sqlite_path(os.environ["MLFLOW_TRACKING_URI"])
assert db_file is not None, "the tests use VTM's embedded SQLite store"
with store_lock(db_file):  # as every first access to a SQLite store must (see store.py)
    client = MlflowClient()
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        root = Path(os.environ["VTM_MLFLOW_ARTIFACT_ROOT"])
        experiment_id = client.create_experiment(name, artifact_location=(root / name).as_uri())
    else:
        experiment_id = experiment.experiment_id

run = client.create_run(experiment_id, tags={"vtm.run_id": os.environ["VTM_RUN_ID"]})
run_id = run.info.run_id
print(f"mlflow-run::{run_id}", flush=True)
if args.meta:
    print("VTM_RUN_META::" + json.dumps({"mlflow_run_id": run_id}), flush=True)
if args.gate_dir:
    gate = Path(args.gate_dir) / os.environ["VTM_RUN_ID"]
    while not gate.exists():
        time.sleep(0.02)
for epoch in range(1, args.epochs + 1):
    accuracy = epoch / args.epochs
    client.log_metric(run_id, "val_accuracy", accuracy, step=epoch)
    print(
        "VTM_PROGRESS::"
        + json.dumps({"epoch": epoch, "total_epochs": args.epochs, "val_accuracy": accuracy}),
        flush=True,
    )
if not args.leave_open:
    client.set_terminated(run_id)
print("done", flush=True)
sys.exit(args.exit_code)
