"""`vtm exec` with VTM_URL: the run is recorded on that server (``/api/runs/external``).

The trainer's output file is the buffer: a sender thread posts it from the offset the server
last acknowledged, so nothing is kept in memory and nothing is lost while the server is away.
A lost server never stops training: the sender says so once, retries with back-off and says
when it is back. Posting with nothing new is the heartbeat the server expects; its answer
carries a stop asked for on the server (the UI, `vtm stop`).

A Ray job's `vtm exec` does not register its run: the server made it, and gave the job a
one-time ticket (VTM_RUN_TICKET), which the recorder trades for the run's own token, then
used for every report.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from vtm_client import ApiError, ExternalRunAccepted, Unreachable, VtmClient, VtmClientError

from vtm.exec.recorder import Outcome, output_size
from vtm.store import NewRun

CHUNK_BYTES = 1 << 20
SEND_EVERY_SECONDS = 0.1
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 0.5, 5.0


def _transient(exc: Exception) -> bool:
    """Worth trying again: no answer, or the server (or a proxy before it) failing."""
    return isinstance(exc, Unreachable) or (isinstance(exc, ApiError) and exc.status >= 500)


def _said(exc: VtmClientError) -> str:
    """What went wrong, for our notes."""
    if isinstance(exc, Unreachable):
        return f"no answer from {exc.url} ({exc.reason})"
    return exc.message if isinstance(exc, ApiError) else str(exc)


class RemoteRecorder:
    def __init__(
        self,
        url: str,
        token: str | None,
        wait_seconds: float,
        note: Callable[[str], None],
        cancelled: Callable[[], bool] = lambda: False,
        ticket: str | None = None,
    ) -> None:
        """``wait_seconds``: how long a server that does not answer is waited for, before the
        run (registering) and after it (the last output and the outcome); ``cancelled``:
        whether to give up waiting at once (this process was asked to stop); ``ticket``: the
        run's one-time ticket, when the server made the run (a Ray job)."""
        self.url = url.rstrip("/")
        self._ticket = ticket
        self.wait_seconds = wait_seconds
        self._note = note
        self._cancelled = cancelled
        # Each call is tried once: the loops below retry, saying so, and can be cancelled.
        self._vtm = VtmClient(self.url, token, timeout=10.0, retry_seconds=0)
        self.run_id = ""
        self.heartbeat = 5.0
        self._output: Path | None = None
        self._thread: threading.Thread | None = None
        self._sent = 0  # bytes the server has acknowledged
        self._final_size: int | None = None
        self._wake = threading.Event()
        self._stop_requested = False
        self._gone: str | None = None  # why the server takes no more of this run

    @property
    def where(self) -> str:
        return self.url

    # -- before the trainer starts --------------------------------------------------------

    def register(self, new: NewRun) -> ExternalRunAccepted:
        """Record the run on the server (or claim it, with a ticket); ApiError when it refuses
        (nothing may start then), Unreachable when it has not answered for ``wait_seconds``."""
        if self._ticket is not None:
            return self._claim(new, self._ticket)
        deadline = time.monotonic() + self.wait_seconds
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                # Idempotent by id: a register whose answer was lost is simply sent again.
                accepted = self._vtm.register_external_run(
                    new.id,
                    task_id=new.task_id,
                    fields=new.fields,
                    command=new.command,
                    host=new.origin.get("host") or "unknown",
                    airflow=new.origin.get("airflow") or None,
                    mlflow_experiment=new.launch.mlflow_experiment,
                )
            except VtmClientError as exc:
                if not _transient(exc) or self._cancelled():
                    raise
                if time.monotonic() + delay > deadline:
                    raise Unreachable(
                        f"the VTM server at {self.url} has not answered for "
                        f"{self.wait_seconds:g} s: {_said(exc)}",
                        url=self.url,
                        reason=_said(exc),
                    ) from exc
                if delay == RETRY_FIRST_SECONDS:
                    self._note(f"the VTM server does not answer ({_said(exc)}); trying again")
                time.sleep(delay)  # back-off between attempts
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            self.run_id = new.id
            self.heartbeat = float(accepted["heartbeatSeconds"])
            return accepted

    def _claim(self, new: NewRun, ticket: str) -> ExternalRunAccepted:
        # Resent only while the server cannot have had it (refused): a ticket is good once.
        with VtmClient(self.url, None, timeout=10.0, retry_seconds=self.wait_seconds) as vtm:
            claimed = vtm.claim_cluster_run(
                new.id,
                ticket=ticket,
                task_id=new.task_id,
                host=new.origin.get("host") or "unknown",
                gpus=visible_gpus(),
                command=new.command,
            )
        self._vtm.close()
        self._vtm = VtmClient(self.url, claimed["token"], timeout=10.0, retry_seconds=0)
        self.run_id = new.id
        self.heartbeat = float(claimed["heartbeatSeconds"])
        return claimed

    # -- while it runs ----------------------------------------------------------------------

    def follow(self, output: Path) -> None:
        self._output = output
        self._thread = threading.Thread(target=self._send_loop, name="exec-send", daemon=True)
        self._thread.start()

    def stop_requested(self) -> bool:
        return self._stop_requested

    def _send_loop(self) -> None:
        assert self._output is not None
        next_beat = 0.0
        delay = RETRY_FIRST_SECONDS
        down_since: float | None = None
        while self._gone is None:
            size = output_size(self._output)
            final = self._final_size
            if final is not None and self._sent >= final:
                return
            if self._sent >= size and time.monotonic() < next_beat:
                self._pause(SEND_EVERY_SECONDS)
                continue
            try:
                self._send(size)
            except VtmClientError as exc:
                if not _transient(exc):
                    self._gone = _said(exc)
                    self._note(
                        f"the server takes no more of run {self.run_id}: {self._gone}; "
                        "training goes on, unrecorded"
                    )
                    return
                if down_since is None:
                    down_since = time.monotonic()
                    self._note(
                        f"lost the VTM server ({_said(exc)}); training goes on, its output is "
                        f"kept in {self._output} and sent when the server is back"
                    )
                self._pause(delay)
                # Never slower than the heartbeat: a server that is back counts our silence.
                delay = min(delay * 2, RETRY_MAX_SECONDS, max(self.heartbeat, RETRY_FIRST_SECONDS))
                continue
            if down_since is not None:
                self._note(
                    f"the VTM server is back after {time.monotonic() - down_since:.0f} s; "
                    "sending the output kept meanwhile"
                )
                down_since = None
            delay = RETRY_FIRST_SECONDS
            next_beat = time.monotonic() + self.heartbeat

    def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if ``finish`` wakes us: the run has ended."""
        self._wake.wait(seconds)
        self._wake.clear()

    def _send(self, size: int) -> None:
        """One post: the next chunk from the acknowledged offset (empty: a heartbeat)."""
        assert self._output is not None
        data = b""
        if size > self._sent:
            with open(self._output, "rb") as fh:
                fh.seek(self._sent)
                data = fh.read(min(size - self._sent, CHUNK_BYTES))
        ack = self._vtm.append_output(self.run_id, self._sent, data)
        self._sent = int(ack["received"])
        self._stop_requested = bool(ack["stopRequested"])

    # -- after it ended ---------------------------------------------------------------------

    def finish(self, outcome: Outcome, size: int) -> None:
        """Send the rest of the output, then the outcome, waiting up to ``wait_seconds`` for
        a server that does not answer; says so and gives up after that."""
        deadline = time.monotonic() + self.wait_seconds
        self._final_size = size
        self._wake.set()
        if self._thread is not None:
            self._thread.join(self.wait_seconds)
            if self._thread.is_alive():
                self._gone = "timed out"  # the sender stops at its next look
                self._note(
                    f"gave up sending run {self.run_id}'s output after {self.wait_seconds:g} s; "
                    "the server will fail the run as lost"
                )
                return
        if self._gone is not None:
            return
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                self._vtm.finish_external_run(
                    self.run_id,
                    status=outcome.status.value,
                    exit_code=outcome.returncode,
                    error=outcome.reason,
                    size=size,
                )
                return
            except VtmClientError as exc:
                if not _transient(exc) or time.monotonic() + delay > deadline:
                    self._note(f"could not record how run {self.run_id} ended: {_said(exc)}")
                    return
                time.sleep(delay)  # back-off between attempts
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    def close(self) -> None:
        self._gone = self._gone or "closed"
        self._wake.set()
        self._vtm.close()


def visible_gpus() -> list[int]:
    """The GPUs this process was given (CUDA_VISIBLE_DEVICES, as Ray sets it), by index."""
    devices = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    return [int(d) for d in devices.split(",") if d.strip().isdigit()]
