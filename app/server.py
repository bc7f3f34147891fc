"""The composition root: settings -> registry -> dataplane -> REST + gRPC in one event loop.

Shutdown: on SIGTERM readiness turns 503 at once while new requests are still served for
`drain_seconds` (so load balancers stop sending first); then the listeners close and the
requests in flight get `grace_seconds` to finish; then models unload. SIGINT skips the
drain; a second signal cuts a running drain short."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from app.dataplane import DataPlane
from app.grpc.server import GrpcServer, build_server
from app.memory import tune_malloc
from app.registry import ModelRegistry, ModelState
from app.rest import create_app, create_metrics_app
from app.settings import ModelSettingsError, ServerSettings

log = logging.getLogger("oipserve")


class _HTTPServer(uvicorn.Server):
    """uvicorn inside our loop: signals belong to `Server`, not to uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _run_http(server: uvicorn.Server) -> None:
    """uvicorn's serve(), whose sys.exit on a failed bind becomes a plain return (a
    SystemExit escaping a task would stop the whole event loop)."""
    with contextlib.suppress(SystemExit):
        await server.serve()


class _Listener:
    """One uvicorn server running as a task of our loop."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http="httptools",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
        )
        self.server = _HTTPServer(config)
        self.task: asyncio.Task[None] | None = None
        self.port = 0

    async def start(self) -> int:
        self.task = asyncio.create_task(_run_http(self.server))
        while not self.server.started:
            if self.task.done():
                config = self.server.config
                raise OSError(f"cannot listen for HTTP on {config.host}:{config.port}")
            await asyncio.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self.port

    def close(self, grace: float) -> None:
        """Stop accepting connections now and ask the open ones to close once their answer
        is sent (uvicorn would notice `should_exit` only on its next 0.1 s tick); requests
        in flight get `grace` seconds, then are cancelled."""
        self.server.config.timeout_graceful_shutdown = grace  # type: ignore[assignment]  # uvicorn reads it as seconds; floats work
        self.server.should_exit = True
        for listening in getattr(self.server, "servers", ()):  # set once uvicorn has bound
            listening.close()
        for connection in list(self.server.server_state.connections):
            connection.shutdown()

    async def wait(self) -> None:
        """Until the requests in flight have finished (or were cancelled)."""
        if self.task is not None:
            await self.task


class Server:
    """Serves the model repository over REST and gRPC; `serve()` runs until SIGTERM/SIGINT,
    or use `start()` / `stop()` to run it inside an existing loop (tests, embedding)."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.registry = ModelRegistry(settings.model_repository, grace=settings.grace_seconds)
        self.dataplane = DataPlane(self.registry, settings)
        self.http_port = 0
        self.grpc_port = 0
        self.metrics_port: int | None = None
        self._http = _Listener(
            create_app(self.dataplane, settings), settings.host, settings.http_port
        )
        self._metrics: _Listener | None = None
        self._grpc: GrpcServer | None = None
        self._stop_requested = asyncio.Event()
        self._cut_drain = asyncio.Event()
        self._drain = False
        self._stopped = False

    async def start(self) -> None:
        """Listen on every port (readiness is 503 meanwhile), then load the models."""
        names = self.settings.startup_models()
        self._check_names(names)
        host = self.settings.host
        self.http_port = await self._http.start()
        self._grpc = build_server(self.dataplane, self.settings)
        self.grpc_port = self._grpc.port
        await self._grpc.start()
        log.info("REST listening on http://%s:%d (docs at /docs)", host, self.http_port)
        log.info("gRPC listening on %s:%d", host, self.grpc_port)
        if self.settings.metrics_port is not None:
            self._metrics = _Listener(
                create_metrics_app(self.dataplane), host, self.settings.metrics_port
            )
            self.metrics_port = await self._metrics.start()
            log.info("metrics on http://%s:%d/metrics", host, self.metrics_port)
        await self.registry.load_repository(names)
        self.dataplane.mark_started()
        await self._report_models()

    def _check_names(self, names: list[str] | None) -> None:
        """Fail before listening when --load-models names a model the repository lacks."""
        found = self.registry.folders()
        unknown = [name for name in names or () if name not in found]
        if unknown:
            raise ModelSettingsError(
                f"--load-models names {unknown[0]!r}, which is not a model folder of "
                f"{self.settings.model_repository}; models: {', '.join(sorted(found)) or 'none'}"
            )

    async def _report_models(self) -> None:
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

    async def stop(self, grace: float | None = None, drain: float = 0.0) -> None:
        """Readiness off; serve `drain` more seconds; close the listeners and give the
        requests in flight `grace` seconds (default: the settings'); unload the models."""
        if self._stopped:
            return
        self._stopped = True
        grace = self.settings.grace_seconds if grace is None else grace
        self.dataplane.mark_stopping()
        if drain > 0:
            log.info("shutdown: readiness is 503; still serving new requests for %gs", drain)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._cut_drain.wait(), drain)
        monitor = self.dataplane.monitor
        stopped = await self._close_listeners(grace)
        log.info(
            "shutdown: closing the listeners; %s requests in flight get up to %gs to finish",
            monitor.report_inflight(),
            grace,
        )
        await stopped
        if monitor.inflight:
            log.warning("shutdown: %s requests did not finish", monitor.describe_inflight())
        else:
            log.info("shutdown: every request in flight has finished")
        await self.registry.unload_all()
        log.info("shutdown complete")

    async def _close_listeners(self, grace: float) -> asyncio.Future[list[None]]:
        """Stop taking connections and calls on every port, now; the future is done once
        the requests in flight have finished (or were cancelled after `grace` s)."""
        listeners = [self._http, *([self._metrics] if self._metrics else [])]
        for listener in listeners:
            listener.close(grace)
        grpc_stop = [self._grpc.stop(grace)] if self._grpc is not None else []
        stopped = asyncio.gather(*(listener.wait() for listener in listeners), *grpc_stop)
        await asyncio.sleep(0)  # the gRPC stop's first step runs: no more calls are taken
        return stopped

    def request_stop(self, drain: bool = False) -> None:
        """Ask `serve()` to stop, after the drain period if `drain`; readiness turns 503 now.
        Asked again, it cuts a running drain short."""
        self.dataplane.mark_stopping()
        if self._stop_requested.is_set():
            self._cut_drain.set()
            return
        self._drain = drain
        self._stop_requested.set()

    def _on_signal(self, sig: signal.Signals) -> None:
        again = self._stop_requested.is_set()
        log.info(
            "%s received: %s",
            sig.name,
            "cutting the drain short"
            if again
            else "shutting down" + (" after the drain" if sig is signal.SIGTERM else ""),
        )
        self.request_stop(drain=sig is signal.SIGTERM)

    async def serve(self) -> None:
        """Start, wait for SIGTERM or SIGINT, stop."""
        if self.settings.tune_malloc:
            tune_malloc()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            await self.start()
            await self._stop_requested.wait()
        finally:
            await self.stop(drain=self.settings.drain_seconds if self._drain else 0.0)
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
