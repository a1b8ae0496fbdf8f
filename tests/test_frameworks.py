"""The trainers teams already have, launched unchanged from tests/frameworks/ in an environment
of their own (.venv-trainers): PyTorch Lightning (argparse and LightningCLI), the Hugging Face
Trainer, a Hydra app, torchrun with two workers, a `python -m` package and a tqdm +
SummaryWriter loop. Each shows progress or metrics while it runs, read from its progress bar
and TensorBoard event files; `vtm catalog check` passes on all of them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from vtm_client import VtmClient

from support import TESTS, Server, events_of_a_new_run, processes_with_env, vtm_home_at, wait_for

pytestmark = pytest.mark.frameworks

FRAMEWORKS = TESTS / "frameworks"
CATALOG = FRAMEWORKS / "catalog.yaml"
PYTHON = TESTS.parent / ".venv-trainers" / "bin" / "python"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not PYTHON.exists():
        pytest.fail(f"{PYTHON} is missing: `make trainers-env` makes it (`make test` does)")
    root = tmp_path_factory.mktemp("frameworks")
    for home in vtm_home_at(root / "home"):
        with Server(home, catalog=CATALOG) as srv:
            yield srv


def watch(server: Server, task: str, **fields: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Start a run and follow its events to the end: (the finished run, every update the
    server pushed while it went)."""
    updates: list[dict[str, Any]] = []
    with VtmClient(server.url) as vtm:
        for event in events_of_a_new_run(vtm, lambda: server.start_run(task, **fields)["id"]):
            if event.type == "run.updated":
                updates.append(event.json())
            elif event.type == "run.finished":
                return event.json(), updates
    raise AssertionError("the event stream ended before the run did")


def live(updates: list[dict[str, Any]], has: str) -> list[dict[str, Any]]:
    """The updates of the running run whose progress holds ``has``."""
    return [u for u in updates if u["status"] == "running" and has in u["progress"]]


def metrics(server: Server, run_id: str) -> dict[str, list[dict[str, Any]]]:
    got: dict[str, list[dict[str, Any]]] = server.client.get(f"/api/runs/{run_id}/metrics").json()[
        "series"
    ]
    return got


def work_files(server: Server, run_id: str) -> list[str]:
    folder = server.home / "runs" / run_id / "work"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_catalog_checks_clean_against_every_trainer() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vtm", "catalog", "check", "--catalog", str(CATALOG)],
        capture_output=True,
        text=True,
        timeout=240,
        env={k: v for k, v in os.environ.items() if not k.startswith("VTM_")},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_lightning_with_argparse(server: Server) -> None:
    # Lightning draws a Rich bar where rich is installed (transformers brings it), which
    # writes nothing until the end when its output is not a terminal: the live view comes
    # from the TensorBoard logger's event files.
    run, updates = watch(server, "lightning-argparse", max_epochs=8)
    assert run["status"] == "completed", run["error"]
    assert live(updates, "train_loss"), "the TensorBoard scalars while it ran"
    series = metrics(server, run["id"])
    assert len(series["val_accuracy"]) == 8  # one per epoch, at Lightning's global step
    steps = [p["step"] for p in series["val_accuracy"]]
    assert steps == sorted(steps) and steps[0] > 0
    assert series["val_accuracy"][-1]["value"] > 0.8
    assert any(
        f.startswith("lightning_logs/version_0/events.out.tfevents.")
        for f in work_files(server, run["id"])
    )


def test_lightning_cli_with_a_subcommand_dotted_flags_and_bool_values(server: Server) -> None:
    run, _ = watch(server, "lightning-cli", **{"model.lr": 0.02, "trainer.max_epochs": 1})
    assert run["status"] == "completed", run["error"]
    assert run["command"][2:] == [
        "fit",
        "--model.lr=0.02",
        "--trainer.max_epochs=1",
        "--trainer.log_every_n_steps=5",
        "--trainer.enable_checkpointing=false",
    ]
    assert "train_loss" in metrics(server, run["id"])
    assert not any("checkpoints" in f for f in work_files(server, run["id"]))


def test_lightning_s_callback_from_vtm_reporting_reports_each_epoch(server: Server) -> None:
    run, updates = watch(server, "lightning-cli-reporting", **{"trainer.max_epochs": 3})
    assert run["status"] == "completed", run["error"]
    assert live(updates, "epoch"), "the callback's progress while it ran"
    assert (run["progress"]["epoch"], run["progress"]["total_epochs"]) == (3, 3)
    assert run["protocolErrors"] == 0
    assert len(metrics(server, run["id"])["val_accuracy"]) >= 3


def test_hugging_face_trainer_with_tqdm_on(server: Server) -> None:
    run, updates = watch(server, "hf-trainer", num_train_epochs=2)
    assert run["status"] == "completed", run["error"]
    assert "--disable_tqdm=false" in run["command"] and "--use_cpu=true" in run["command"]
    # The training bar (256 / 32 * 2 = 16 steps); the evaluation bars come and go beside it.
    totals = {u["progress"]["bar"]["total"] for u in live(updates, "bar")}
    assert 16 in totals
    series = metrics(server, run["id"])
    assert "train/loss" in series and "eval/loss" in series
    # One evaluation per epoch, at the Trainer's global steps, and the closing evaluate().
    assert [p["step"] for p in series["eval/loss"]] == [8, 16, 16]


def test_hugging_face_s_callback_from_vtm_reporting_next_to_tqdm(server: Server) -> None:
    run, _ = watch(server, "hf-trainer-reporting", num_train_epochs=2)
    assert run["status"] == "completed", run["error"]
    assert run["protocolErrors"] == 0, "every line the callback printed beside the bar was read"
    series = metrics(server, run["id"])
    assert [p["step"] for p in series["eval_loss"]] == [8, 16, 16]  # the step key is the x-axis
    assert run["progress"]["epoch"] == 2.0


def test_keras_s_callback_from_vtm_reporting(server: Server) -> None:
    run, _ = watch(server, "keras-fit", epochs=3)
    assert run["status"] == "completed", run["error"]
    assert (run["progress"]["epoch"], run["progress"]["total_epochs"]) == (3, 3)
    assert [p["step"] for p in metrics(server, run["id"])["val_accuracy"]] == [1, 2, 3]


def test_a_hydra_app_with_overrides(server: Server) -> None:
    # Text that Hydra's grammar would take for a sweep, an interpolation or a quote's end.
    note = "a,b ${oc.env:HOME} it's \\ [x]"
    run, _ = watch(
        server, "hydra-app", **{"optimizer.lr": 0.5, "optimizer.name": "sgd", "note": note}
    )
    assert run["status"] == "completed", run["error"]
    assert run["command"][2:6] == [
        "epochs=2",
        "optimizer.lr=0.5",
        "optimizer.name='sgd'",
        "+seed=3",
    ]
    log = server.full_log(run["id"]).decode()
    assert "trained with sgd at lr 0.5" in log and "seed: 3" in log
    assert f"note=[{note}]" in log  # arrived as it was sent
    assert run["progress"]["bar"] == {"n": 400, "total": 400}  # tqdm's, on stderr
    assert any(
        f.startswith("outputs/") and f.endswith(".hydra/overrides.yaml")
        for f in work_files(server, run["id"])
    )


def test_torchrun_two_workers_stopped_mid_run_leave_no_process(
    server: Server, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    run = server.start_run("ddp", steps=50, pause_at=5, gate_dir=str(gate), deaf=True)
    run_id = run["id"]
    assert run["command"][1:5] == [
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
    ]
    work = server.home / "runs" / run_id / "work"
    pids = wait_for(
        lambda: (
            [int((work / f"rank{r}.pid").read_text()) for r in (0, 1)]
            if all((work / f"rank{r}.pid").exists() for r in (0, 1))
            else None
        ),
        "both workers started",
        timeout=120,
    )
    workers = [psutil.Process(pid) for pid in pids]
    server.client.post(f"/api/runs/{run_id}/stop")
    stopped = server.wait_status(run_id, "stopped", timeout=60)
    assert stopped["status"] == "stopped"
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"workers left: {alive}"
    assert processes_with_env(f"VTM_RUN_ID={run_id}") == []


def test_torchrun_runs_to_the_end(server: Server) -> None:
    run, _ = watch(server, "ddp", steps=10)
    assert run["status"] == "completed", run["error"]
    log = server.full_log(run["id"]).decode()
    assert "rank 0 done" in log and "rank 1 done" in log


def test_a_python_m_package_with_a_negatable_bool(server: Server) -> None:
    run, _ = watch(server, "package-module", warmup=False)
    assert run["status"] == "completed", run["error"]
    assert run["command"][1:3] == ["-m", "mypkg.train"]
    assert "--no-warmup" in run["command"]
    assert "warmup=False" in server.full_log(run["id"]).decode()
    assert run["progress"]["bar"] == {"n": 100, "total": 100}


def test_a_plain_tqdm_and_summary_writer_loop(server: Server) -> None:
    run, _ = watch(server, "tqdm-tensorboard", steps=30)
    assert run["status"] == "completed", run["error"]
    series = metrics(server, run["id"])
    assert [p["step"] for p in series["loss"]] == list(range(30))
    assert series["accuracy"][-1]["value"] == pytest.approx(
        1 - 2.718281828 ** (-0.1 * 29), rel=1e-3
    )
    assert run["progress"]["bar"] == {"n": 30, "total": 30}
    assert any(f.startswith("runs/") for f in work_files(server, run["id"]))


@pytest.mark.parametrize(
    ("task", "fields", "sign"),
    [
        ("lightning-argparse", {"max_epochs": 1000}, "train_loss"),
        ("lightning-cli-reporting", {"trainer.max_epochs": 1000}, "epoch"),
        ("hf-trainer", {"num_train_epochs": 1000}, "bar"),
        ("hydra-app", {"epochs": 1_000_000}, "bar"),
        ("package-module", {"epochs": 10_000_000}, "bar"),
        ("tqdm-tensorboard", {"steps": 10_000_000}, "loss"),
        ("keras-fit", {"epochs": 1000}, "epoch"),
    ],
)
def test_a_framework_run_stops_once_it_is_under_way(
    server: Server, task: str, fields: dict[str, Any], sign: str
) -> None:
    run_id = server.start_run(task, **fields)["id"]

    def under_way() -> dict[str, Any] | None:
        now = server.run(run_id)
        return now if now["status"] == "running" and sign in now["progress"] else None

    wait_for(under_way, f"{task} reporting {sign}", timeout=120)
    server.client.post(f"/api/runs/{run_id}/stop")
    assert server.wait_status(run_id, "stopped", timeout=60)["error"] == "stopped on request"
    assert processes_with_env(f"VTM_RUN_ID={run_id}") == []
