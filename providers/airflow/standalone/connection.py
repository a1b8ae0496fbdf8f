"""Print Airflow's ``vtm_default`` connection (JSON) for the VTM at ``$VTM_URL``.

`make airflow` puts it in ``AIRFLOW_CONN_VTM_DEFAULT``; the token, if ``VTM_TOKEN`` is set,
becomes the connection's password (JSON, so any character in it survives).
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit


def connection(url: str, token: str | None) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit(f"VTM_URL={url!r} is not an http(s) URL such as http://127.0.0.1:8000")
    return json.dumps(
        {
            "conn_type": "vtm",
            "host": parts.hostname,
            "port": parts.port or (443 if parts.scheme == "https" else 80),
            "schema": parts.scheme,
            "password": token or None,
        }
    )


if __name__ == "__main__":
    url = os.environ.get("VTM_URL", "http://127.0.0.1:8000")
    print(connection(url, os.environ.get("VTM_TOKEN")))
