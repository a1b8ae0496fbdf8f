"""Everything one running server holds, built at start-up and torn down at shutdown."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine

from vtm.api.schemas import GpuOut, GpusResponse, RunRecord
from vtm.catalog import CatalogHolder
from vtm.gpus import GpuReading, Inventory
from vtm.integrations.airflow import close_clients as close_airflow_clients
from vtm.integrations.mlflow.settler import MlflowSettler
from vtm.integrations.mlflow.store import StoreInit
from vtm.integrations.side_servers import SideServers
from vtm.runs.events import EventBus
from vtm.runs.external import ExternalRuns
from vtm.runs.gpu_watch import GpuWatch
from vtm.runs.queue import QueueBoard
from vtm.runs.ray_runs import RayRuns
from vtm.runs.service import RunService
from vtm.settings import Settings
from vtm.store import RunData, RunRepository, create_db_engine, migrate
from vtm.supervisor import start_spare, stop_spare

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    catalog: CatalogHolder
    bus: EventBus
    service: RunService
    mlflow_store: StoreInit
    side_servers: SideServers
    settler: MlflowSettler
    external: ExternalRuns
    board: QueueBoard
    _watch_stop: asyncio.Event
    gpu_watch: GpuWatch | None = None
    _gpus_told: str = ""  # the last gpus.updated event's data
    _watch_task: asyncio.Task[None] | None = None

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        settings.runs_dir.mkdir(parents=True, exist_ok=True)
        engine = create_db_engine(settings.effective_database_url)
        migrate(engine)
        catalog = CatalogHolder(settings.catalog)
        if not catalog.reload():
            log.error("catalog not loaded: %s", catalog.error)
        bus = EventBus()
        board = QueueBoard()

        def publish(kind: str, run: RunData) -> None:
            record = record_of(run, board, settings.gpu_hour_cost)
            bus.publish(kind, record.model_dump_json(by_alias=True))

        repo = RunRepository(engine, tail_lines=settings.log_tail_lines)
        inventory = Inventory(settings.gpus, settings.nvml_module)
        mlflow_store = StoreInit(settings)
        side_servers = SideServers(settings, mlflow_store)  # refuses impossible settings first
        settler = MlflowSettler(settings, repo, publish, mlflow_store)
        ray = RayRuns(settings, repo, publish)
        service = RunService(
            settings, catalog, repo, publish, inventory, board, on_finished=settler.submit, ray=ray
        )

        def reported_run_ended(run: RunData) -> None:
            service.cluster_run_ended(run)  # a Ray run's room on its node is free
            settler.submit(run)

        external = ExternalRuns(settings, repo, publish, on_finished=reported_run_ended)
        return cls(
            settings,
            engine,
            catalog,
            bus,
            service,
            mlflow_store=mlflow_store,
            side_servers=side_servers,
            settler=settler,
            external=external,
            board=board,
            _watch_stop=asyncio.Event(),
        )

    def record(self, run: RunData) -> RunRecord:
        """A run as the API shows it, with its place in the queue and its cost."""
        return record_of(run, self.board, self.settings.gpu_hour_cost)

    def gpus(self, readings: Mapping[int, GpuReading | None] | None = None) -> GpusResponse:
        """The GPUs' listing, from ``readings`` if given, else read through NVML now."""
        service = self.service
        holders = service.gpus.holders()
        if readings is None:
            readings = service.inventory.read()
        outside = service.outside_use(readings)
        return GpusResponse(
            source=service.inventory.source,
            gpus=[
                GpuOut(
                    index=index,
                    name=reading.name if reading else f"GPU {index}",
                    memory_total=reading.memory_total_mb if reading else None,
                    memory_used=reading.memory_used_mb if reading else None,
                    utilization=reading.utilization if reading else None,
                    run_id=holders.get(index),
                    outside_use=index in outside,
                )
                for index, reading in readings.items()
            ],
        )

    def _sampled(self, run_ids: list[str], readings: dict[int, GpuReading | None]) -> None:
        # The run pages' GPU charts refetch on their run's update; the GPUs panel on this.
        for run_id in run_ids:
            record = self.record(self.service.repo.get(run_id))
            self.bus.publish("run.updated", record.model_dump_json(by_alias=True))
        gpus = self.gpus(readings).model_dump_json(by_alias=True)
        if gpus != self._gpus_told:  # idle GPUs are not news every few seconds
            self._gpus_told = gpus
            self.bus.publish("gpus.updated", gpus)

    def start(self) -> None:
        self.bus.bind(asyncio.get_running_loop())
        self.catalog.add_listener(self._catalog_changed)
        self._watch_task = asyncio.create_task(self.catalog.watch(self._watch_stop))
        # Both return at once: the MLflow store is created and the side servers probed in threads.
        self.mlflow_store.start()
        self.side_servers.start()
        self.service.recover()
        self.settler.start()  # runs that ended while no server was up
        self.external.start()
        self.service.ray.start(self.external.end_unreported)
        self.gpu_watch = GpuWatch(self.service, self.settings.gpu_sample_seconds, self._sampled)
        self.gpu_watch.start()
        start_spare()  # so that even the first run starts without an interpreter start-up
        freeze_start_up_heap()

    def _catalog_changed(self) -> None:
        error = self.catalog.error
        self.bus.publish("catalog.reloaded", '{"status": "%s"}' % ("error" if error else "ok"))
        if error is not None:
            log.error("catalog reload failed, keeping the last good one: %s", error)

    async def close(self) -> None:
        self._watch_stop.set()
        if self._watch_task is not None:
            await self._watch_task
        if self.gpu_watch is not None:
            await asyncio.to_thread(self.gpu_watch.close)
        await asyncio.to_thread(self.service.shutdown)
        self.service.inventory.close()
        await asyncio.to_thread(self.external.close)
        await asyncio.to_thread(self.service.ray.close)
        await asyncio.to_thread(stop_spare)
        await asyncio.to_thread(self.side_servers.close)
        await asyncio.to_thread(self.settler.close)
        close_airflow_clients()
        self.engine.dispose()


def freeze_start_up_heap() -> None:
    """Put what start-up made (the modules, the app, the catalog) out of the garbage
    collector's way: a full collection then walks only what serving has made since, not the
    whole heap, so none stalls a scheduling pass or a request for milliseconds. (Frozen objects
    are still freed by their reference counts; only a cycle among them, once garbage, stays.)"""
    gc.collect()
    gc.freeze()


def record_of(run: RunData, board: QueueBoard, gpu_hour_cost: float | None) -> RunRecord:
    return RunRecord.of(run, board.get(run.id), gpu_hour_cost)
