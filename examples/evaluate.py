"""Sample VTM evaluation step: measure a logged digits model on the held-out test split.

Catalog task ``digits-evaluate`` (see training_catalog.yaml). It loads the model of an MLflow
run (``--mlflow_run_id``; empty: the latest FINISHED run of ``--source_experiment`` that
logged a model) through MLflow, evaluates it on the test images the trainer never saw
(trainers/digits_task.py), reports ``test_accuracy`` and ``test_loss`` with a
``VTM_PROGRESS::`` line, and logs a run of its own to ``$MLFLOW_EXPERIMENT_NAME`` tagged
``vtm.evaluated_run_id``. Run it bare against any tracking store:

    MLFLOW_TRACKING_URI=sqlite:///.vtm/mlflow/mlflow.db python examples/evaluate.py

Exit code 1 with a one-line reason when there is no such run or model.
"""

# The heavy imports (torch, mlflow) sit below the argument parsing on purpose.
# ruff: noqa: E402

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

TRAINERS = Path(__file__).resolve().parent / "trainers"
EVALUATED_TAG = "vtm.evaluated_run_id"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Evaluate a digits model logged to MLflow on the held-out test split."
    )
    parser.add_argument(
        "--mlflow_run_id",
        default="",
        help="MLflow run whose model to evaluate; empty: the latest finished one with a model",
    )
    parser.add_argument(
        "--source_experiment",
        default="digits-cnn",
        help="experiment searched when --mlflow_run_id is empty",
    )
    parser.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: cuda if visible"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    ARGS = parse_args()

try:
    from vtm.reporting import progress
except ImportError:  # run outside VTM's environment: print the protocol line by hand

    def progress(epoch: int | None = None, total_epochs: int | None = None, **values: Any) -> None:
        print("VTM_PROGRESS::" + json.dumps(values), flush=True)


sys.path.insert(0, str(TRAINERS))  # the shared data split and MLflow helper live there

import torch
from digits_task import confusion_matrix, held_out_split
from mlflow_tracking import meta, tracked_run
from torch.nn import functional as F


class Refused(Exception):
    """Nothing to evaluate: the message says why."""


def model_of(client: Any, run_id: str) -> str | None:
    """The id of the model ``run_id`` logged (MLflow 3 keeps it as a LoggedModel)."""
    run = client.get_run(run_id)
    outputs = run.outputs.model_outputs if run.outputs else []
    if outputs:
        return str(outputs[0].model_id)
    found = client.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run_id}'",
        max_results=1,
    )
    return str(found[0].model_id) if found else None


def pick_source(client: Any, run_id: str, experiment: str) -> tuple[str, str]:
    """(MLflow run id, model id) to evaluate; raises Refused when there is none."""
    from mlflow.exceptions import MlflowException

    if run_id:
        try:
            model_id = model_of(client, run_id)
        except MlflowException as exc:
            raise Refused(f"no MLflow run {run_id!r}: {exc.message}") from exc
        if model_id is None:
            raise Refused(f"MLflow run {run_id} logged no model")
        return run_id, model_id
    found = client.get_experiment_by_name(experiment)
    if found is None:
        raise Refused(f"no MLflow experiment named {experiment!r}")
    runs = client.search_runs(
        [found.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=50,
    )
    for run in runs:
        model_id = model_of(client, run.info.run_id)
        if model_id is not None:
            return str(run.info.run_id), model_id
    raise Refused(f"no FINISHED run with a logged model in MLflow experiment {experiment!r}")


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device=cuda was asked for but no CUDA device is visible")
    return torch.device(name)


@torch.no_grad()
def evaluate(model: torch.nn.Module, device: torch.device) -> tuple[float, float, list[Any]]:
    images, labels = held_out_split()
    x, y = torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device)
    model.eval()
    logits = model(x)
    loss = F.cross_entropy(logits, y).item()
    predicted = logits.argmax(dim=1)
    accuracy = (predicted == y).float().mean().item()
    return loss, accuracy, confusion_matrix(predicted, y)


def main(args: argparse.Namespace) -> int:
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        sys.exit("error: MLFLOW_TRACKING_URI is not set: run this under VTM or point it at a store")
    import mlflow

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    device = pick_device(args.device)
    try:
        source_run, model_id = pick_source(
            mlflow.MlflowClient(), args.mlflow_run_id, args.source_experiment
        )
    except Refused as exc:
        sys.exit(f"error: {exc}")
    model_uri = f"models:/{model_id}"
    print(f"evaluating {model_uri} of MLflow run {source_run}", flush=True)
    model = mlflow.pytorch.load_model(model_uri, map_location=device)
    loss, accuracy, matrix = evaluate(model, device)
    print(f"test_accuracy={accuracy:.4f} test_loss={loss:.4f}", flush=True)

    progress(
        test_accuracy=accuracy,
        test_loss=loss,
        evaluated_run_id=source_run,
        device=str(device),
    )
    params = {"source_run_id": source_run, "model_uri": model_uri, "device": str(device)}
    with tracked_run("digits-evaluate", params, tags={EVALUATED_TAG: source_run}) as tracking:
        if tracking is not None:
            meta(evaluated_mlflow_run_id=source_run)
            tracking.log_epoch(0, test_accuracy=accuracy, test_loss=loss)
            tracking.log_json(
                {"labels": list(range(10)), "matrix": matrix}, "confusion_matrix.json"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
