"""The catalog as the UI and CLI see it: tasks with merged field schemas, and load status."""

from __future__ import annotations

from fastapi import APIRouter

from vtm.api.deps import CatalogDep
from vtm.api.schemas import (
    CatalogErrorOut,
    CatalogResponse,
    FieldOut,
    PrimaryMetricOut,
    TaskMlflowOut,
    TaskOut,
)
from vtm.catalog import effective_fields

router = APIRouter(prefix="/api/catalog", tags=["catalog"])


@router.get("")
def get_catalog(holder: CatalogDep) -> CatalogResponse:
    loaded = holder.current
    error = holder.error
    tasks: list[TaskOut] = []
    if loaded is not None:
        catalog = loaded.catalog
        for task_id, task in catalog.tasks.items():
            base = catalog.base_task_types[task.base_task_type]
            metric = base.primary_metric
            fields = [
                FieldOut(
                    name=name,
                    type=spec.type,
                    default=spec.default,
                    required=spec.required,
                    min=spec.min,
                    max=spec.max,
                    choices=spec.choices,
                    label=spec.label,
                    help=spec.help,
                    flag=spec.flag_for(name),
                )
                for name, spec in effective_fields(catalog, task_id).items()
            ]
            tasks.append(
                TaskOut(
                    id=task_id,
                    title=task.title,
                    description=task.description or base.description,
                    base_task_type=task.base_task_type,
                    primary_metric=PrimaryMetricOut(name=metric.name, goal=metric.goal)
                    if metric
                    else None,
                    gpus=task.resources.gpus,
                    priority=task.resources.priority,
                    executor=task.executor,
                    fields=fields,
                    # Declared, not defaulted: every trainer gets MLflow's variables, but only
                    # a task whose catalog entry names MLflow is known to log there.
                    mlflow=TaskMlflowOut(
                        experiment=catalog.experiment_name(task_id),
                        registered_model=catalog.registered_model_name(task_id),
                    )
                    if "mlflow" in task.model_fields_set
                    else None,
                )
            )
    return CatalogResponse(
        status="error" if error is not None else "ok",
        path=str(holder.path),
        loaded_at=loaded.loaded_at if loaded else None,
        error=CatalogErrorOut(
            message=error.message, file=error.file, line=error.line, key=error.key
        )
        if error
        else None,
        tasks=tasks,
    )
