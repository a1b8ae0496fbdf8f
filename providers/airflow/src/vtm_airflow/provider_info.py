"""What Airflow learns about this provider through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from vtm_airflow import __version__


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "vtm-airflow",
        "name": "VTM",
        "description": "Run VTM catalog tasks, publish best models and write quality reports.",
        "versions": [__version__],
        "connection-types": [
            {"connection-type": "vtm", "hook-class-name": "vtm_airflow.hooks.vtm.VtmHook"}
        ],
        "hooks": [{"integration-name": "VTM", "python-modules": ["vtm_airflow.hooks.vtm"]}],
        "operators": [
            {
                "integration-name": "VTM",
                "python-modules": ["vtm_airflow.operators.vtm", "vtm_airflow.operators.exec"],
            }
        ],
        "sensors": [{"integration-name": "VTM", "python-modules": ["vtm_airflow.sensors.vtm"]}],
        "triggers": [{"integration-name": "VTM", "python-modules": ["vtm_airflow.triggers.vtm"]}],
    }
