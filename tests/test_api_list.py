"""Listing runs: pages newest first with a cursor, and filters by status, task and date, on a
server of their own (they look at every run it holds), on both databases."""

from __future__ import annotations

import pytest

from support import Server

pytestmark = pytest.mark.both_databases


def test_list_pages_and_filters(server: Server) -> None:
    ids = [server.start_run(epochs=1)["id"] for _ in range(5)]
    failing = server.start_run(epochs=1, exit_code=1)["id"]
    for run_id in [*ids, failing]:
        server.wait_status(run_id)

    first = server.client.get("/api/runs", params={"limit": 4}).json()
    assert [r["id"] for r in first["runs"]] == [failing, *reversed(ids)][:4]
    second = server.client.get(
        "/api/runs", params={"limit": 4, "cursor": first["nextCursor"]}
    ).json()
    assert [r["id"] for r in second["runs"]] == list(reversed(ids))[3:]
    assert second["nextCursor"] is None

    failed = server.client.get("/api/runs", params={"status": "failed"}).json()["runs"]
    assert [r["id"] for r in failed] == [failing]
    by_task = server.client.get("/api/runs", params={"taskId": "noisy"}).json()["runs"]
    assert by_task == []


def test_date_filters(server: Server) -> None:
    run = server.start_run(epochs=1)
    server.wait_status(run["id"])
    created = run["createdAt"]
    params = {"createdAfter": created}
    assert [r["id"] for r in server.client.get("/api/runs", params=params).json()["runs"]] == [
        run["id"]
    ]
    before = server.client.get("/api/runs", params={"createdBefore": created}).json()["runs"]
    assert before == []
    bad = server.client.get("/api/runs", params={"createdAfter": "yesterday"})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "createdAfter"
