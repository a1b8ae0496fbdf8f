"""A Ray cluster's Jobs REST API and node list, over httpx: VTM's server needs no `ray` package
(Ray pins its own protobuf, grpcio and pydantic) and talks to the dashboard's port only.

What VTM uses: ``GET /api/v0/nodes`` (each node's declared CPUs and GPUs), ``POST /api/jobs/``
(submit, the submission id being the run's id), ``GET /api/jobs/{id}`` (status, message, the
driver's exit code) and ``POST /api/jobs/{id}/stop``. Ray's dashboard has no authentication of
its own: it belongs on loopback or a private network (docs/scaling.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

# Ray's job states; a job in one of ENDED will not change again.
ENDED = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})
NODE_PAGE = 1000  # nodes asked for at once: more than any cluster VTM is meant for


class RayError(Exception):
    """Something the Ray cluster said or did not say."""


class RayUnavailable(RayError):
    """No answer, or the dashboard failing (5xx): worth trying again later."""


class RayRefused(RayError):
    """Ray answered that it will not do it (4xx): trying again would not help."""


@dataclass(frozen=True)
class RayNode:
    """A live node and what it declares (Ray's own accounting, not the hardware)."""

    id: str
    ip: str
    name: str
    gpus: int
    cpus: float
    head: bool


@dataclass(frozen=True)
class RayJob:
    status: str  # PENDING, RUNNING, STOPPED, SUCCEEDED, FAILED
    message: str
    driver_exit_code: int | None
    node_id: str | None

    @property
    def ended(self) -> bool:
        return self.status in ENDED


class RayJobs:
    """The cluster whose dashboard is at ``address`` (``http://head:8265``)."""

    def __init__(self, address: str, timeout: float = 10.0, submit_timeout: float = 60.0) -> None:
        self.address = address.rstrip("/")
        self._http = httpx.Client(base_url=self.address, timeout=timeout)
        # A cluster's first jobs wait for its job agents: tens of seconds on a small machine.
        self._submit_timeout = submit_timeout

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **options)
        except httpx.TransportError as exc:
            raise RayUnavailable(f"no answer from Ray at {self.address}: {exc}") from exc
        if response.status_code >= 500:
            raise RayUnavailable(
                f"Ray at {self.address} answered {response.status_code}: {_said(response)}"
            )
        return response

    def nodes(self) -> list[RayNode]:
        """The cluster's live nodes."""
        r = self._request("GET", "/api/v0/nodes", params={"limit": NODE_PAGE, "detail": "true"})
        if r.status_code != 200:
            raise RayUnavailable(f"Ray's node list answered {r.status_code}: {_said(r)}")
        listing = r.json().get("data", {}).get("result", {}).get("result", [])
        nodes = []
        for node in listing:
            if node.get("state") != "ALIVE":
                continue
            total = node.get("resources_total") or {}
            nodes.append(
                RayNode(
                    id=str(node["node_id"]),
                    ip=str(node.get("node_ip", "")),
                    name=str(node.get("node_name") or node.get("node_ip") or node["node_id"]),
                    gpus=int(total.get("GPU", 0)),
                    cpus=float(total.get("CPU", 0)),
                    head=bool(node.get("is_head_node")),
                )
            )
        return nodes

    def submit(
        self,
        submission_id: str,
        entrypoint: str,
        *,
        node_id: str,
        gpus: int,
        cpus: float,
        env: Mapping[str, str],
        metadata: Mapping[str, str],
    ) -> None:
        """Submit a job pinned to ``node_id``. A job of that id that exists already is taken
        as this one (a submit whose answer was lost, sent again)."""
        body = {
            "entrypoint": entrypoint,
            "submission_id": submission_id,
            "entrypoint_num_gpus": gpus,
            "entrypoint_num_cpus": cpus,
            # Ray labels every node with its id: the job goes where VTM counted room for it.
            "entrypoint_label_selector": {"ray.io/node-id": node_id},
            "runtime_env": {"env_vars": dict(env)},
            "metadata": dict(metadata),
        }
        try:
            r = self._request("POST", "/api/jobs/", json=body, timeout=self._submit_timeout)
        except RayUnavailable:
            if self.job(submission_id) is not None:  # it went through; the answer did not
                return
            raise
        if r.status_code in (200, 201):
            return
        raise RayRefused(f"Ray refused the job ({r.status_code}): {_said(r)}")

    def job(self, submission_id: str) -> RayJob | None:
        """The job's state; None when Ray does not know it."""
        r = self._request("GET", f"/api/jobs/{submission_id}")
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise RayUnavailable(f"Ray's job {submission_id} answered {r.status_code}")
        info = r.json()
        code = info.get("driver_exit_code")
        return RayJob(
            status=str(info.get("status", "")),
            message=str(info.get("message") or ""),
            driver_exit_code=int(code) if isinstance(code, int) else None,
            node_id=info.get("driver_node_id"),
        )

    def stop(self, submission_id: str) -> bool:
        """Ask Ray to stop the job (SIGTERM to its processes, then SIGKILL); whether it was
        still going."""
        r = self._request("POST", f"/api/jobs/{submission_id}/stop")
        if r.status_code == 404:
            return False
        if r.status_code != 200:
            raise RayRefused(f"Ray would not stop job {submission_id} ({r.status_code})")
        return bool(r.json().get("stopped"))


def _said(response: httpx.Response) -> str:
    """The gist of an error answer, for messages (Ray's can carry a whole traceback)."""
    text = response.text.strip()
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        text = str(body.get("detail") or body.get("msg") or body.get("message") or text)
    lines = [line for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else "(no message)")[:500]
