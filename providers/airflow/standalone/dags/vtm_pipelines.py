"""The DAGs of VTM's catalog pipelines, one per pipeline (the DAGs folder of `make airflow`).

``VTM_CATALOG`` names the catalog: a file (read here, so the DAGs parse while VTM is down), or
VTM's URL (``GET /api/pipelines``: the pipelines the server validated; ``VTM_TOKEN`` if it
wants one). ``VTM_AIRFLOW_DEFERRABLE=1`` hands each training wait to the triggerer.
"""

from __future__ import annotations

import os

from vtm_airflow import dags_from_catalog

globals().update(
    dags_from_catalog(
        os.environ["VTM_CATALOG"],
        deferrable=os.environ.get("VTM_AIRFLOW_DEFERRABLE", "").lower() in ("1", "true", "yes"),
    )
)
