"""The sample catalog `make run` serves: a newcomer's first run, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import Server
from test_cli import vtm

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "training_catalog.yaml"


@pytest.mark.slow
def test_digits_cnn_runs_to_the_end_with_vtm_run_follow(vtm_home: Path, database_url: str) -> None:
    srv = Server(vtm_home, database_url, catalog=SAMPLE).start()
    try:
        tasks = {t["id"] for t in srv.client.get("/api/catalog").json()["tasks"]}
        assert {"digits-cnn", "shapes-segmentation", "plain-argparse"} <= tasks

        result = vtm(srv, "run", "digits-cnn", "--set", "epochs=3", "--follow")

        assert result.returncode == 0, result.stdout + result.stderr
        run_id = result.stdout.split("started run ")[1].split()[0]
        run = srv.run(run_id)
        assert run["status"] == "completed"
        assert run["progress"]["epoch"] == run["progress"]["total_epochs"] == 3
        assert run["progress"]["val_accuracy"] > 0.8
        assert run["mlflowRunId"]  # it logged to the embedded MLflow store
        assert "val_accuracy" in srv.client.get(f"/api/runs/{run_id}/metrics").json()["series"]
        assert list((vtm_home / "tensorboard" / run_id).glob("events.out.tfevents.*"))
    finally:
        srv.stop()
        srv.client.close()
