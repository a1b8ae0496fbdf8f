"""A trainer that knows nothing of VTM: its progress bar and its TensorBoard event files are
the run's progress and metrics, live, in the run's own folder; restarts keep no point twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support import Server, wait_for


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    folder = tmp_path / "gate"
    folder.mkdir()
    return folder


def _metrics(server: Server, run_id: str) -> dict[str, list[dict[str, Any]]]:
    series: dict[str, list[dict[str, Any]]] = server.client.get(
        f"/api/runs/{run_id}/metrics"
    ).json()["series"]
    return series


def test_bar_and_event_files_show_live_and_the_files_land_in_the_run_s_folder(
    server: Server, gate: Path
) -> None:
    run = server.start_run("unchanged", steps=10, pause_at=4, gate_dir=str(gate))
    run_id = run["id"]
    assert run["workFolder"] is True

    def paused() -> dict[str, Any] | None:
        now = server.run(run_id)
        return now if now["progress"].get("bar") == {"n": 4, "total": 10} else None

    live = wait_for(paused, "the bar at 4/10")
    assert live["status"] == "running"
    assert live["protocolErrors"] == 0

    def four_points() -> list[dict[str, Any]] | None:
        points = _metrics(server, run_id).get("train/loss", [])
        return points if len(points) == 4 else None

    points = wait_for(four_points, "four TensorBoard points while the run goes")
    assert [p["step"] for p in points] == [1, 2, 3, 4]
    assert points[1]["value"] == pytest.approx(0.5)
    assert server.run(run_id)["progress"]["train/loss"] == pytest.approx(0.25)

    (gate / run_id).touch()
    done = server.wait_status(run_id, "completed")
    assert done["progress"]["bar"] == {"n": 10, "total": 10}
    assert [p["step"] for p in _metrics(server, run_id)["train/loss"]] == list(range(1, 11))

    # The trainer's relative lightning_logs/ is in the run's folder, listed and served.
    top = server.client.get(f"/api/runs/{run_id}/files").json()
    assert [(e["name"], e["isDir"]) for e in top["entries"]] == [("lightning_logs", True)]
    inner = server.client.get(
        f"/api/runs/{run_id}/files", params={"path": "lightning_logs/version_0"}
    ).json()["entries"]
    assert len(inner) == 1 and inner[0]["name"].startswith("events.out.tfevents.")
    got = server.client.get(f"/api/runs/{run_id}/files/download", params={"path": inner[0]["path"]})
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/octet-stream"
    on_disk = server.home / "runs" / run_id / "work" / inner[0]["path"]
    assert got.content == on_disk.read_bytes()


@pytest.mark.parametrize("path", ["../output.log", "/etc/passwd", "a/../../x", "lightning_logs\\x"])
def test_a_path_out_of_the_work_folder_is_refused(server: Server, path: str) -> None:
    run = server.start_run("unchanged", steps=1)
    server.wait_status(run["id"], "completed")
    for route in ("files", "files/download"):
        got = server.client.get(f"/api/runs/{run['id']}/{route}", params={"path": path})
        assert got.status_code == 422, (route, path)
        assert "inside the run's work folder" in got.json()["error"]["fields"][0]["message"]


def test_a_link_out_of_the_work_folder_is_neither_listed_nor_served(server: Server) -> None:
    run = server.start_run("unchanged", steps=1)
    server.wait_status(run["id"], "completed")
    work = server.home / "runs" / run["id"] / "work"
    outside = server.home / "outside.txt"
    outside.write_text("not the run's")
    (work / "secret").symlink_to(outside)
    names = [e["name"] for e in server.client.get(f"/api/runs/{run['id']}/files").json()["entries"]]
    assert names == ["lightning_logs"]
    got = server.client.get(f"/api/runs/{run['id']}/files/download", params={"path": "secret"})
    assert got.status_code == 404


def test_a_restart_reads_on_where_it_was_and_keeps_no_point_twice(
    server: Server, gate: Path
) -> None:
    run = server.start_run("unchanged", steps=6, pause_at=3, gate_dir=str(gate))
    run_id = run["id"]
    wait_for(
        lambda: len(_metrics(server, run_id).get("train/loss", [])) == 3 or None,
        "three points before the restart",
    )
    server.kill9()
    server.restart()
    (gate / run_id).touch()
    server.wait_status(run_id, "completed")
    assert [p["step"] for p in _metrics(server, run_id)["train/loss"]] == [1, 2, 3, 4, 5, 6]
