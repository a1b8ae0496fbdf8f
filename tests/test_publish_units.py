"""The publish pieces that need no server: the FTP URL, request checks, the ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vtm.catalog import load_catalog
from vtm.errors import InvalidRequest, NotFound, UpstreamError
from vtm.publish import FtpTarget, PublishRequest
from vtm.publish.card import read_card
from vtm.publish.gate import Floor
from vtm.publish.selection import ranked
from vtm.publish.service import _plan
from vtm.states import RunStatus
from vtm.store import LaunchRecord, RunData

# -- VTM_FTP_URL ------------------------------------------------------------------------------


def test_ftp_url_is_parsed_and_only_ever_shown_redacted() -> None:
    target = FtpTarget.parse("ftp://pub%40lisher:p%3Ass%2Fw0rd@models.example:2121/registry/v1")
    assert (target.user, target.password) == ("pub@lisher", "p:ss/w0rd")
    assert (target.host, target.port, target.path) == ("models.example", 2121, "registry/v1")
    assert target.redacted == "ftp://pub@lisher:***@models.example:2121/registry/v1"
    for shown in (repr(target), str(target), f"{target}", target.redacted):
        assert "p:ss/w0rd" not in shown and "w0rd" not in shown
    assert target.scrub("530 no p:ss/w0rd here") == "530 no *** here"


def test_ftp_url_defaults_to_port_21_and_the_login_folder() -> None:
    target = FtpTarget.parse("ftp://u:pw@127.0.0.1")
    assert (target.port, target.path) == (21, "")
    assert target.redacted == "ftp://u:***@127.0.0.1:21/"


@pytest.mark.parametrize(
    "url",
    [
        "http://u:secretpw@host/x",
        "ftp://u:secretpw@/x",
        "ftp://u:secretpw@host:port/x",
        "ftp://u:secretpw@host/a/../b",
        "ftp://u:secretpw@host/x?y=1",
    ],
)
def test_a_bad_ftp_url_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(UpstreamError, match="VTM_FTP_URL is not a valid") as refused:
        FtpTarget.parse(url)
    assert "secretpw" not in str(refused.value)


# -- the request ------------------------------------------------------------------------------


CATALOG = """\
version: 1
baseTaskTypes:
  classification:
    primaryMetric: {name: val_accuracy, goal: max}
  plain:
    description: no primary metric
tasks:
  tiny-model:
    baseTaskType: classification
    runner: {target: t.py}
    mlflow: {registeredModel: tiny-registered}
    publish: {minMetric: 0.3}
  unranked:
    baseTaskType: plain
    runner: {target: t.py}
"""


@pytest.fixture
def catalog_with_a_plain_task(tmp_path: Path) -> Path:
    (tmp_path / "t.py").write_text("")
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG)
    return path


def test_the_metric_and_goal_come_from_the_catalog_unless_given(
    catalog_with_a_plain_task: Path,
) -> None:
    catalog = load_catalog(catalog_with_a_plain_task).catalog
    plan = _plan(catalog, PublishRequest(task="tiny-model"))
    assert (plan.metric, plan.goal, plan.alias) == ("val_accuracy", "max", "champion")
    assert (plan.registered_model, plan.experiment) == ("tiny-registered", "tiny-model")
    # The floor of the task's catalog entry, on its primary metric.
    assert plan.floor == Floor(task="tiny-model", metric="val_accuracy", goal="max", value=0.3)
    plan = _plan(catalog, PublishRequest(task="tiny-model", goal="min", since="12h"))
    assert (plan.metric, plan.goal, plan.since) == ("val_accuracy", "min", 12 * 3600)
    plan = _plan(catalog, PublishRequest(task="unranked", metric="f1", goal="max"))
    assert (plan.metric, plan.goal, plan.registered_model) == ("f1", "max", "unranked")
    assert plan.floor is None

    with pytest.raises(NotFound, match="unknown task 'nope'"):
        _plan(catalog, PublishRequest(task="nope"))
    with pytest.raises(InvalidRequest, match="has no primary metric") as no_metric:
        _plan(catalog, PublishRequest(task="unranked"))
    assert no_metric.value.errors[0].field == "metric"
    with pytest.raises(InvalidRequest, match="give goal max or min"):
        _plan(catalog, PublishRequest(task="tiny-model", metric="val_loss"))
    with pytest.raises(InvalidRequest, match="since"):
        _plan(catalog, PublishRequest(task="tiny-model", since="-3d"))
    for alias in ("latest", "v3", "with space", ""):
        with pytest.raises(InvalidRequest, match="alias"):
            _plan(catalog, PublishRequest(task="tiny-model", alias=alias))


# -- ranking ----------------------------------------------------------------------------------


def _vtm_run(seq: int, finished: datetime) -> RunData:
    return RunData(
        seq=seq,
        id=f"run-{seq}",
        task_id="tiny-model",
        status=RunStatus.COMPLETED,
        fields={},
        command=[],
        launch=LaunchRecord(),
        progress={},
        meta={},
        mlflow_run_id=f"mlflow-{seq}",
        log_tail=[],
        exit_code=0,
        error=None,
        created_at=finished - timedelta(minutes=1),
        started_at=finished - timedelta(minutes=1),
        finished_at=finished,
        updated_at=finished,
        log_offset=0,
        at_line_start=True,
        line_count=0,
        progress_count=0,
        protocol_errors=0,
        stop_requested=False,
        gpus=[],
    )


def _mlflow_run(run_id: str, metrics: dict[str, float]):  # type: ignore[no-untyped-def]
    from mlflow.entities import Metric, Run, RunData, RunInfo

    info = RunInfo(
        run_id=run_id,
        experiment_id="1",
        user_id="u",
        status="FINISHED",
        start_time=0,
        end_time=1,
        lifecycle_stage="active",
    )
    data = RunData(metrics=[Metric(k, v, 0, 1) for k, v in metrics.items()])
    return Run(info, data)


def test_ranking_uses_the_goal_and_prefers_the_newer_run_on_a_tie() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    older, newer, low, nan, none = (
        (_vtm_run(1, t), _mlflow_run("a", {"val_accuracy": 0.9})),
        (_vtm_run(2, t + timedelta(hours=1)), _mlflow_run("b", {"val_accuracy": 0.9})),
        (_vtm_run(3, t + timedelta(hours=2)), _mlflow_run("c", {"val_accuracy": 0.5})),
        (_vtm_run(4, t), _mlflow_run("d", {"val_accuracy": float("nan")})),
        (_vtm_run(5, t), _mlflow_run("e", {"loss": 0.1})),
    )
    linked = [older, newer, low, nan, none]
    assert [c.mlflow_run_id for c in ranked(linked, "val_accuracy", "max")] == ["b", "a", "c"]
    assert [c.mlflow_run_id for c in ranked(linked, "val_accuracy", "min")] == ["c", "b", "a"]
    assert ranked(linked, "f1", "max") == []


def test_a_card_that_is_not_vtms_is_not_read_as_one() -> None:
    assert read_card(b"not json") is None
    assert read_card(b'{"files": [{"name": "a"}]}') is None
    assert read_card(b'{"files": [{"name": "a", "size": 1, "sha256": "x"}]}') is not None
