"""MLflow, reached through its Python client on the server side (the browser never talks to it).

tracking_client(settings)                 a cached MlflowClient on VTM's tracking URI
ensure_experiment(settings, name)         the experiment's id, created with VTM's artifact root
trainer_env(settings, experiment)         the variables that link a trainer to MLflow
VTM_RUN_TAG                               the MLflow run tag holding the VTM run id
"""

from vtm.integrations.mlflow.client import (
    VTM_RUN_TAG,
    VTM_TASK_TAG,
    ensure_experiment,
    mlflow_errors,
    tracking_client,
    trainer_env,
)

__all__ = [
    "VTM_RUN_TAG",
    "VTM_TASK_TAG",
    "ensure_experiment",
    "mlflow_errors",
    "tracking_client",
    "trainer_env",
]
