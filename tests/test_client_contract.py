"""vtm_client against the server's OpenAPI: every request the client can make — method, path
template, query parameter names, headers, JSON body keys and value types — is an operation
the server declares, the answers the client names (TypedDicts) have the keys the server
sends, and the client reads VTM's error body as the server's schema writes it.

Each client method is called for real, with every option it has set, over httpx's
MockTransport; the requests it sends are checked. A method added to either client without
a line in CALLS fails here, and so does a path, parameter or field renamed on either side
(the last tests show that the checks do catch such renames).
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import re
import typing
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from vtm_client import (
    AirflowContext,
    ApiError,
    AsyncVtmClient,
    ClusterRunClaimed,
    ExternalRunAccepted,
    Gate,
    LogPage,
    OutputAccepted,
    RunPage,
    VtmClient,
)

from vtm.api.app import create_app
from vtm.settings import Settings

RUN_ID = "20260101-000000-abcdef"
AIRFLOW = AirflowContext(
    dagId="nightly",
    runId="scheduled__2026-01-01",
    taskId="train",
    tryNumber=2,
    mapIndex=-1,
    logicalDate="2026-01-01T00:00:00+00:00",
)
GATE = Gate(
    evaluationRunId=RUN_ID, metric="val_accuracy", goal="max", minMetric=0.5, againstChampion=True
)
WHEN = datetime(2026, 1, 1, tzinfo=UTC)

# One call of every client method, every option it has set. (sync and async alike: ``c`` is
# either client; the async ones return awaitables, ``run`` below awaits them.)
CALLS: dict[str, Callable[[Any], Any]] = {
    "health": lambda c: c.health(),
    "config": lambda c: c.config(),
    "catalog": lambda c: c.catalog(),
    "pipelines": lambda c: c.pipelines(),
    "start_run": lambda c: c.start_run(
        "digits-cnn", {"epochs": 3}, airflow=AIRFLOW, priority=5, executor="ray"
    ),
    "get_run": lambda c: c.get_run(RUN_ID),
    "set_priority": lambda c: c.set_priority(RUN_ID, 10),
    "gpus": lambda c: c.gpus(),
    "list_runs": lambda c: c.list_runs(
        status=["running", "queued"],
        task_id="digits-cnn",
        limit=20,
        cursor="41",
        id_prefix="20260101",
        created_after=WHEN,
        created_before="2026-02-01T00:00:00",
    ),
    "stop_run": lambda c: c.stop_run(RUN_ID),
    "logs": lambda c: c.logs(RUN_ID, 1024, limit=4096),
    "events": lambda c: c.events(run_id=RUN_ID),
    "publish": lambda c: c.publish(
        "digits-cnn",
        run_id=RUN_ID,
        metric="val_accuracy",
        goal="max",
        since="7d",
        alias="champion",
        gate=GATE,
        timeout=10,
    ),
    "report": lambda c: c.report(since="7d", task="digits-cnn", timeout=10),
    "report_text": lambda c: c.report_text("html", since="7d", task="digits-cnn"),
    "register_external_run": lambda c: c.register_external_run(
        RUN_ID,
        task_id="digits-cnn",
        fields={"epochs": 3},
        command=["python", "train.py", "--epochs=3"],
        host="worker-1",
        airflow=AIRFLOW,
        mlflow_experiment="digits",
    ),
    "claim_cluster_run": lambda c: c.claim_cluster_run(
        RUN_ID,
        ticket="one-time",
        task_id="digits-cnn",
        host="node-1",
        gpus=[0],
        command=["python", "train.py"],
    ),
    "append_output": lambda c: c.append_output(RUN_ID, 0, b"epoch 1\n"),
    "finish_external_run": lambda c: c.finish_external_run(
        RUN_ID, status="completed", exit_code=0, error=None, size=8
    ),
}
EXTRA_CALLS = {
    # The other report pages and a list without options: other paths, fewer parameters.
    "report_text md": lambda c: c.report_text("md"),
    "report_text json": lambda c: c.report_text("json"),
    "list_runs bare": lambda c: c.list_runs(),
}
# Headers any request may carry; every other one must be a header parameter of the operation.
TRANSPORT_HEADERS = {
    "host",
    "accept",
    "accept-encoding",
    "connection",
    "user-agent",
    "content-length",
    "content-type",
    "authorization",
}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("home")
    openapi: dict[str, Any] = create_app(
        Settings(home=home, catalog=home / "training_catalog.yaml")
    ).openapi()
    return openapi


# -- sending every call -------------------------------------------------------------------


def _answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/api/events":
        # The stream ends after one event; the client reconnects with Last-Event-ID.
        return httpx.Response(200, text="id: b-1\nevent: hello\ndata: {}\n\n")
    if path.startswith("/api/report."):
        return httpx.Response(200, text="<html></html>")
    return httpx.Response(200, json={})


def _sync_requests(call: Callable[[Any], Any]) -> list[httpx.Request]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _answer(request)

    with VtmClient("http://vtm", "token", transport=httpx.MockTransport(handler)) as client:
        result = call(client)
        if inspect.isgenerator(result):  # the event stream: until it has reconnected
            for _ in range(2):
                next(result)
            result.close()
    return sent


def _async_requests(call: Callable[[Any], Any]) -> list[httpx.Request]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _answer(request)

    async def go() -> None:
        transport = httpx.MockTransport(handler)
        async with AsyncVtmClient("http://vtm", "token", transport=transport) as client:
            result = call(client)
            if inspect.isasyncgen(result):
                for _ in range(2):
                    await result.__anext__()
                await result.aclose()
            else:
                assert isinstance(result, Awaitable)
                await result

    asyncio.run(go())
    return sent


def every_request() -> Iterator[tuple[str, httpx.Request]]:
    for name, call in {**CALLS, **EXTRA_CALLS}.items():
        for request in _sync_requests(call):
            yield f"VtmClient.{name}", request
        for request in _async_requests(call):
            yield f"AsyncVtmClient.{name}", request


# -- checking a request against the OpenAPI -----------------------------------------------


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = spec["components"]["schemas"][name]
    return schema


def operation(spec: dict[str, Any], method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The operation a request is for; a literal path wins over a template (external vs
    {run_id})."""
    matches = []
    for template, item in spec["paths"].items():
        if method.lower() not in item:
            continue
        parts = re.split(r"(\{[^}]+\})", template)
        regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        if re.fullmatch(regex, path):
            matches.append((template.count("{"), template, item[method.lower()]))
    if not matches:
        return None
    _, template, op = min(matches, key=lambda m: m[0])
    return template, op


JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def value_problems(spec: dict[str, Any], schema: dict[str, Any], value: Any, at: str) -> list[str]:
    """What about ``value`` the schema does not allow: unknown keys, missing required ones,
    wrong types, values outside an enum."""
    schema = _resolve(spec, schema)
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema["oneOf"]
        tried = [value_problems(spec, option, value, at) for option in options]
        return [] if any(not t for t in tried) else min(tried, key=len)
    problems = []
    kind = schema.get("type")
    if kind is not None:
        allowed = JSON_TYPES[kind]
        if not isinstance(value, allowed) or (kind in ("integer", "number") and value is True):
            return [f"{at}: {value!r} is not of type {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{at}: {value!r} is not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        problems.append(f"{at}: {value!r} is not {schema['const']!r}")
    if isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        for key, item in value.items():
            if key not in properties:
                problems.append(f"{at}.{key}: no such field (has {sorted(properties)})")
            else:
                problems += value_problems(spec, properties[key], item, f"{at}.{key}")
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"{at}.{key}: required, not sent")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problems += value_problems(spec, schema["items"], item, f"{at}[{i}]")
    return problems


def request_problems(spec: dict[str, Any], request: httpx.Request) -> list[str]:
    method, path = request.method, request.url.path
    found = operation(spec, method, path)
    if found is None:
        return [f"{method} {path}: the server has no such operation"]
    template, op = found
    where = f"{method} {template}"
    params = op.get("parameters", [])
    problems = []
    query = {p["name"]: p for p in params if p["in"] == "query"}
    for name, value in request.url.params.multi_items():
        if name not in query:
            problems.append(f"{where}: no query parameter {name!r} (has {sorted(query)})")
            continue
        schema = _resolve(spec, query[name]["schema"])
        if schema.get("type") == "array" or any(
            o.get("type") == "array" for o in schema.get("anyOf", [])
        ):
            continue  # repeated: each value is one item
        if (
            schema.get("type") in ("integer", "number")
            or {"type": "integer"} in schema.get("anyOf", [])
        ) and not re.fullmatch(r"-?\d+(\.\d+)?", value):
            problems.append(f"{where}: query {name}={value!r} is not a number")
    headers = {p["name"].lower() for p in params if p["in"] == "header"}
    for name in request.headers:
        if name.lower() not in TRANSPORT_HEADERS and name.lower() not in headers:
            problems.append(f"{where}: no header parameter {name!r}")
    body = op.get("requestBody")
    content = request.content
    if content and body is None:
        problems.append(f"{where}: sends a body, the operation takes none")
    elif content:
        media = request.headers.get("content-type", "").split(";")[0]
        if media not in body["content"]:
            problems.append(
                f"{where}: body as {media!r}, the operation takes {list(body['content'])}"
            )
        elif media == "application/json":
            schema = body["content"][media]["schema"]
            problems += value_problems(spec, schema, json.loads(content), f"{where} body")
    elif body is not None and body.get("required"):
        problems.append(f"{where}: the operation requires a body, none sent")
    return problems


def test_every_method_of_both_clients_is_called_here() -> None:
    for cls in (VtmClient, AsyncVtmClient):
        methods = {n for n, _ in inspect.getmembers(cls, inspect.isfunction) if n[0] != "_"}
        assert methods - {"close", "aclose"} == set(CALLS), cls.__name__


def test_every_request_the_client_makes_is_in_the_openapi(spec: dict[str, Any]) -> None:
    problems = []
    seen = set()
    for caller, request in every_request():
        problems += [f"{caller}: {p}" for p in request_problems(spec, request)]
        found = operation(spec, request.method, request.url.path)
        if found:
            seen.add((request.method, found[0]))
    assert problems == []
    # The stream reconnected from the last event it read.
    _, second = _sync_requests(CALLS["events"])
    assert second.headers["last-event-id"] == "b-1"
    assert len(seen) == 20


def test_every_request_carries_the_token() -> None:
    for caller, request in every_request():
        assert request.headers["authorization"] == "Bearer token", caller


RESPONSE_SHAPES = {
    "list_runs": RunPage,
    "logs": LogPage,
    "register_external_run": ExternalRunAccepted,
    "claim_cluster_run": ClusterRunClaimed,
    "append_output": OutputAccepted,
}


def test_the_answers_the_client_names_have_the_servers_keys(spec: dict[str, Any]) -> None:
    for name, shape in RESPONSE_SHAPES.items():
        hints = typing.get_type_hints(getattr(VtmClient, name))
        assert hints["return"] is shape, name
        (request, *_) = _sync_requests(CALLS[name])
        found = operation(spec, request.method, request.url.path)
        assert found is not None
        ok = next(v for k, v in found[1]["responses"].items() if k.startswith("2"))
        schema = _resolve(spec, ok["content"]["application/json"]["schema"])
        # Every key the TypedDict promises, the server always sends.
        assert set(shape.__annotations__) <= set(schema["required"]), name
        assert set(shape.__annotations__) <= set(schema["properties"]), name


@pytest.mark.parametrize(
    ("shape", "component"), [(AirflowContext, "AirflowContext"), (Gate, "GateBody")]
)
def test_the_request_shapes_are_the_servers(
    spec: dict[str, Any], shape: type, component: str
) -> None:
    schema = spec["components"]["schemas"][component]
    keys = set(shape.__required_keys__) | set(shape.__optional_keys__)  # type: ignore[attr-defined]
    assert keys == set(schema["properties"])
    assert set(schema.get("required", [])) <= set(shape.__required_keys__)  # type: ignore[attr-defined]


def example(spec: dict[str, Any], schema: dict[str, Any], name: str = "x") -> Any:
    """A value the schema describes, every property given, strings naming where they are."""
    schema = _resolve(spec, schema)
    if "anyOf" in schema:
        schema = next(_resolve(spec, o) for o in schema["anyOf"] if o.get("type") != "null")
    kind = schema.get("type")
    if kind == "object":
        return {k: example(spec, v, k) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(spec, schema["items"], name)]
    return {"string": f"the {name}", "integer": 7, "number": 0.5, "boolean": True}[kind]


def test_the_client_reads_the_servers_error_body(spec: dict[str, Any]) -> None:
    body = example(spec, spec["components"]["schemas"]["ErrorBody"])
    detail = body["error"]

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json=body)

    with (
        VtmClient("http://vtm", transport=httpx.MockTransport(refuse)) as client,
        pytest.raises(ApiError) as refused,
    ):
        client.start_run("digits-cnn")
    error = refused.value
    assert (error.status, error.code, error.message) == (422, detail["code"], detail["message"])
    assert error.fields == detail["fields"]


# -- the checks catch renames --------------------------------------------------------------


def _request(method: str, path: str, **kwargs: Any) -> httpx.Request:
    return httpx.Request(method, f"http://vtm{path}", **kwargs)


def test_a_renamed_path_query_parameter_or_field_is_caught(spec: dict[str, Any]) -> None:
    good = _request("POST", "/api/runs/start", json={"taskId": "t", "fields": {}})
    assert request_problems(spec, good) == []
    renamed = [
        _request("POST", "/api/run/start", json={"taskId": "t"}),
        _request("GET", f"/api/runs/{RUN_ID}/log"),
        _request("GET", "/api/runs", params={"task_id": "t"}),
        _request("GET", "/api/runs", params={"limit": "many"}),
        _request("POST", "/api/runs/start", json={"taskID": "t"}),
        _request("POST", "/api/runs/start", json={"taskId": "t", "airflow": {"dagId": "d"}}),
        _request("POST", "/api/publish", json={"task": "t", "gate": {"minValue": 1}}),
        _request("POST", f"/api/runs/{RUN_ID}/finish", json={"status": "done", "size": 1}),
        _request("GET", "/api/events", headers={"Last-Event": "b-1"}),
        _request("POST", f"/api/runs/{RUN_ID}/output", content=b"x"),  # not octet-stream
    ]
    for request in renamed:
        assert request_problems(spec, request) != [], (request.method, request.url)


def test_a_field_renamed_on_the_server_is_caught(spec: dict[str, Any]) -> None:
    renamed = copy.deepcopy(spec)
    schema = renamed["components"]["schemas"]["RegisterExternalRun"]
    schema["properties"]["hostname"] = schema["properties"].pop("host")
    schema["required"] = ["hostname" if k == "host" else k for k in schema["required"]]
    problems = []
    for _, request in every_request():
        problems += request_problems(renamed, request)
    assert any(".host: no such field" in p for p in problems)
    assert any(".hostname: required" in p for p in problems)
