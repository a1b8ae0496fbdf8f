"""Everything one running server holds, built at start-up and torn down at shutdown."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from vtm.api.schemas import RunRecord
from vtm.catalog import CatalogHolder
from vtm.integrations.mlflow.settler import MlflowSettler
from vtm.integrations.mlflow.store import StoreInit
from vtm.integrations.side_servers import SideServers
from vtm.runs.events import EventBus
from vtm.runs.external import ExternalRuns
from vtm.runs.gpus import GpuPool, detect_gpus
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
    _watch_stop: asyncio.Event
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

        def publish(kind: str, run: RunData) -> None:
            bus.publish(kind, RunRecord.of(run).model_dump_json(by_alias=True))

        repo = RunRepository(engine, tail_lines=settings.log_tail_lines)
        gpus = GpuPool(detect_gpus(settings.gpus))
        mlflow_store = StoreInit(settings)
        side_servers = SideServers(settings, mlflow_store)  # refuses impossible settings first
        settler = MlflowSettler(settings, repo, publish, mlflow_store)
        service = RunService(settings, catalog, repo, publish, gpus, on_finished=settler.submit)
        external = ExternalRuns(settings, repo, publish, on_finished=settler.submit)
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
            _watch_stop=asyncio.Event(),
        )

    def start(self) -> None:
        self.bus.bind(asyncio.get_running_loop())
        self.catalog.add_listener(self._catalog_changed)
        self._watch_task = asyncio.create_task(self.catalog.watch(self._watch_stop))
        # Both return at once: the MLflow store is created and the children probed in threads.
        self.mlflow_store.start()
        self.side_servers.start()
        self.service.recover()
        self.settler.start()  # runs that ended while no server was up
        self.external.start()
        start_spare()  # so that even the first run starts without an interpreter start-up

    def _catalog_changed(self) -> None:
        error = self.catalog.error
        self.bus.publish("catalog.reloaded", '{"status": "%s"}' % ("error" if error else "ok"))
        if error is not None:
            log.error("catalog reload failed, keeping the last good one: %s", error)

    async def close(self) -> None:
        self._watch_stop.set()
        if self._watch_task is not None:
            await self._watch_task
        await asyncio.to_thread(self.service.shutdown)
        await asyncio.to_thread(self.external.close)
        await asyncio.to_thread(stop_spare)
        await asyncio.to_thread(self.side_servers.close)
        await asyncio.to_thread(self.settler.close)
        self.engine.dispose()
