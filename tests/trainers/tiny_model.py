"""A test trainer that logs a tiny model to MLflow, for the publish tests.

--value is the final val_accuracy it logs; the first epoch logs --spike more, so a run's best
value in its history can differ from its final one. --loss > 0 also logs val_loss. It tags
its MLflow run vtm.run_id and, unless --no_meta, reports the MLflow run id in VTM_RUN_META.
The model is a pyfunc (no heavy flavour to import) with one file in a subfolder.
"""

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--value", type=float, default=0.5)
parser.add_argument("--spike", type=float, default=0.0)
parser.add_argument("--loss", type=float, default=-1.0)
parser.add_argument("--no_model", action="store_true")
parser.add_argument("--no_meta", action="store_true")
parser.add_argument("--exit_code", type=int, default=0)
args = parser.parse_args()

import mlflow  # noqa: E402 - after argparse, so that --help stays fast
import mlflow.pyfunc  # noqa: E402


class TinyModel(mlflow.pyfunc.PythonModel):
    def __init__(self, weight: float) -> None:
        self.weight = weight

    def predict(self, context, model_input: list[float], params=None) -> list[float]:
        return [x * self.weight for x in model_input]


run_id = os.environ["VTM_RUN_ID"]
# VTM passes MLFLOW_TRACKING_URI and MLFLOW_EXPERIMENT_NAME. A missing experiment is made
# under VTM's artifact root: MLflow's default would be ./mlruns in the trainer's folder.
name = os.environ["MLFLOW_EXPERIMENT_NAME"]
if mlflow.MlflowClient().get_experiment_by_name(name) is None:
    root = Path(os.environ["VTM_MLFLOW_ARTIFACT_ROOT"])
    # Another run of the task may make it meanwhile.
    with contextlib.suppress(mlflow.exceptions.MlflowException):
        mlflow.MlflowClient().create_experiment(name, artifact_location=(root / name).as_uri())
mlflow.set_experiment(name)
with mlflow.start_run(tags={"vtm.run_id": run_id}) as run:
    if not args.no_meta:
        print("VTM_RUN_META::" + json.dumps({"mlflow_run_id": run.info.run_id}), flush=True)
    mlflow.log_params({"value": args.value, "loss": args.loss, "epochs": args.epochs})
    for epoch in range(1, args.epochs + 1):
        accuracy = args.value + (args.spike if epoch == 1 and args.epochs > 1 else 0.0)
        metrics = {"val_accuracy": accuracy}
        if args.loss > 0:
            metrics["val_loss"] = args.loss
        mlflow.log_metrics(metrics, step=epoch)
        progress = {"epoch": epoch, "total_epochs": args.epochs, **metrics}
        print("VTM_PROGRESS::" + json.dumps(progress), flush=True)
    if not args.no_model:
        with tempfile.TemporaryDirectory() as tmp:
            weights = Path(tmp) / "weights.json"
            weights.write_text(json.dumps({"weight": args.value, "vtm_run_id": run_id}))
            mlflow.pyfunc.log_model(
                name="model",
                python_model=TinyModel(args.value),
                artifacts={"weights": str(weights)},
                pip_requirements=["mlflow"],
            )
print("done", flush=True)
sys.exit(args.exit_code)
