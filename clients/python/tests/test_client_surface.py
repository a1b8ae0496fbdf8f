"""The public surface is deliberate: what ``vtm_client`` exports, and that the sync and the
async client offer the same calls. A name added to or dropped from it must be added or dropped
here too."""

from __future__ import annotations

import inspect
import pickle
import subprocess
import sys

import vtm_client
from vtm_client import AsyncVtmClient, VtmClient

PUBLIC = {
    "TERMINAL_STATUSES",
    "AirflowContext",
    "ApiError",
    "AsyncVtmClient",
    "ClusterRunClaimed",
    "ExternalRunAccepted",
    "FieldError",
    "Gate",
    "Goal",
    "LogPage",
    "OutputAccepted",
    "ReportFormat",
    "RunPage",
    "RunStatus",
    "SseEvent",
    "Unreachable",
    "VtmClient",
    "VtmClientError",
    "__version__",
}

CALLS = {
    "health",
    "config",
    "catalog",
    "pipelines",
    "start_run",
    "get_run",
    "list_runs",
    "set_priority",
    "gpus",
    "stop_run",
    "logs",
    "events",
    "publish",
    "report",
    "report_text",
    "register_external_run",
    "claim_cluster_run",
    "append_output",
    "finish_external_run",
}


def public_methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, inspect.isfunction) if name[0] != "_"}


def test_the_package_exports_exactly_its_public_names() -> None:
    assert set(vtm_client.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(vtm_client, name) is not None
    # Nothing else public at the top level: modules are private (_sync, _errors, …).
    stray = {
        name
        for name in vars(vtm_client)
        if not name.startswith("_") and name not in PUBLIC and name != "annotations"
    }
    assert stray == set()


def test_the_error_tree() -> None:
    assert issubclass(vtm_client.ApiError, vtm_client.VtmClientError)
    assert issubclass(vtm_client.Unreachable, vtm_client.VtmClientError)
    assert not issubclass(vtm_client.ApiError, vtm_client.Unreachable)
    error = vtm_client.ApiError(409, "not_published", "below the floor", [])
    assert (error.status, error.code, error.message, error.fields) == (
        409,
        "not_published",
        "below the floor",
        [],
    )


def test_the_errors_survive_pickling() -> None:
    refused = vtm_client.ApiError(
        422,
        "validation_failed",
        "bad",
        [{"field": "epochs", "message": "too low"}],
        method="POST",
        path="/api/runs/start",
    )
    again = pickle.loads(pickle.dumps(refused))
    assert (again.status, again.code, again.message, again.fields, str(again)) == (
        422,
        "validation_failed",
        "bad",
        refused.fields,
        str(refused),
    )
    gone = vtm_client.Unreachable("no answer", url="http://vtm", path="/api/health", reason="x")
    back = pickle.loads(pickle.dumps(gone))
    assert (str(back), back.url, back.path, back.reason) == (
        "no answer",
        "http://vtm",
        "/api/health",
        "x",
    )


def test_both_clients_offer_the_same_calls_with_the_same_parameters() -> None:
    assert public_methods(VtmClient) == CALLS | {"close"}
    assert public_methods(AsyncVtmClient) == CALLS | {"aclose"}
    for name in CALLS:
        sync, coro = getattr(VtmClient, name), getattr(AsyncVtmClient, name)
        assert inspect.signature(sync).parameters == inspect.signature(coro).parameters, name
        if name == "events":
            assert inspect.isasyncgenfunction(coro)
        else:
            assert inspect.iscoroutinefunction(coro), name


def test_the_token_stays_out_of_repr() -> None:
    with VtmClient("http://vtm.example:8000/", token="s3cret") as client:
        assert client.base_url == "http://vtm.example:8000"
        assert "s3cret" not in repr(client)


def test_importing_it_needs_httpx_only_and_never_vtm() -> None:
    code = (
        "import sys, vtm_client\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(loaded & {'vtm', 'fastapi', 'pydantic', 'starlette', 'sqlalchemy'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
