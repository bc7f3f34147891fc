"""The composition root: settings -> registry -> dataplane -> REST + gRPC in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import grpc
import uvicorn

from app.dataplane import DataPlane
from app.grpc.server import build_server
from app.memory import tune_malloc
from app.registry import ModelRegistry, ModelState
from app.rest import create_app
from app.settings import ServerSettings, model_folders

log = logging.getLogger("oipserve")


class _HTTPServer(uvicorn.Server):
    """uvicorn inside our loop: signals belong to `Server`, not to uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Server:
    """Serves the model repository over REST and gRPC; `serve()` runs until SIGTERM/SIGINT,
    or use `start()` / `stop()` to run it inside an existing loop (tests, embedding)."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.registry = ModelRegistry(settings.model_repository)
        self.dataplane = DataPlane(self.registry, settings)
        self.http_port = 0
        self.grpc_port = 0
        self._stopping = asyncio.Event()
        self._http: _HTTPServer | None = None
        self._http_task: asyncio.Task[None] | None = None
        self._grpc: grpc.aio.Server | None = None

    async def start(self) -> None:
        """Listen on both ports (readiness is 503 meanwhile), then load the repository."""
        model_folders(self.settings.model_repository)  # fail fast on a missing repository
        await self._start_http()
        self._grpc, self.grpc_port = build_server(self.dataplane, self.settings)
        await self._grpc.start()
        host = self.settings.host
        log.info("REST listening on http://%s:%d (docs at /docs)", host, self.http_port)
        log.info("gRPC listening on %s:%d", host, self.grpc_port)
        await self.registry.load_repository()
        self.dataplane.mark_started()
        for entry in self.registry.entries():
            if entry.state is ModelState.READY:
                log.info("model %s version %s is ready", entry.name, entry.version)
            else:
                log.warning(
                    "model %s version %s is %s: %s",
                    entry.name,
                    entry.version,
                    entry.state.value,
                    entry.reason,
                )
        log.info("server %s", "ready" if await self.dataplane.ready() else "NOT ready")

    async def _start_http(self) -> None:
        config = uvicorn.Config(
            create_app(self.dataplane, self.settings),
            host=self.settings.host,
            port=self.settings.http_port,
            http="httptools",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
        )
        self._http = _HTTPServer(config)
        self._http_task = asyncio.create_task(self._http.serve())
        while not self._http.started:
            if self._http_task.done():
                raise OSError(
                    f"cannot listen for HTTP on {self.settings.host}:{self.settings.http_port}"
                )
            await asyncio.sleep(0.01)
        self.http_port = self._http.servers[0].sockets[0].getsockname()[1]

    async def stop(self, grace: float = 10.0) -> None:
        """Turn readiness off, finish in-flight requests (up to `grace` seconds), unload."""
        self.dataplane.mark_stopping()
        log.info("shutting down: finishing in-flight requests")
        if self._http is not None and self._http_task is not None:
            self._http.should_exit = True
            self._http.config.timeout_graceful_shutdown = int(grace)
            with contextlib.suppress(SystemExit):
                await self._http_task
        if self._grpc is not None:
            await self._grpc.stop(grace)
        await self.registry.unload_all()
        log.info("shutdown complete")

    def request_stop(self) -> None:
        """Ask `serve()` to stop (signal handlers call this)."""
        self._stopping.set()

    async def serve(self) -> None:
        """Start, wait for SIGTERM or SIGINT, stop."""
        if self.settings.tune_malloc:
            tune_malloc()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        try:
            await self.start()
            await self._stopping.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await self.stop()
