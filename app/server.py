"""The composition root: settings -> registry -> dataplane -> REST + gRPC (+ Kafka) in one
event loop.

Shutdown: on SIGTERM readiness turns 503 at once while new requests are still served for
`drain_seconds` (so load balancers stop sending first); then the listeners close and the
requests in flight get `grace_seconds` to finish; then models unload. SIGINT skips the
drain; a second signal cuts a running drain short."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING, Protocol

from app.client.inprocess import InProcessClient
from app.dataplane import DataPlane
from app.grpc.server import GrpcListener
from app.kafka.settings import KafkaSettings
from app.memory import tune_malloc
from app.model_settings import ModelSettingsError
from app.peers import PeerApp, Peers
from app.protocol.errors import OIPError
from app.registry import ModelRegistry
from app.rest import create_app, create_metrics_app
from app.rest.server import HTTPListener
from app.settings import ServerSettings
from app.tracing import Tracing
from app.versions import ModelState

if TYPE_CHECKING:
    from app.kafka.front import KafkaFront

log = logging.getLogger("oipserve")


class Listener(Protocol):
    """A port the server answers on, started, closed and waited for the same way."""

    announce: str
    """The log line saying where it listens, with `{address}` for host:port."""
    port: int
    """The port bound, once bound."""

    def bind(self) -> None:
        """Take the port (OSError saying why it cannot be), logging nothing."""

    async def start(self) -> int:
        """Listen on the port bound; the port."""

    def close(self, grace: float) -> None:
        """Stop taking connections and calls now; those in flight get `grace` seconds."""

    async def wait(self) -> None:
        """Until the requests in flight have finished (or were cancelled)."""


class Server:
    """Serves the model repository over REST and gRPC; `serve()` runs until SIGTERM/SIGINT,
    or use `start()` / `stop()` to run it inside an existing loop (tests, embedding)."""

    def __init__(
        self,
        settings: ServerSettings,
        tracing: Tracing | None = None,
        kafka: KafkaSettings | None = None,
    ) -> None:
        """`tracing`: spans for every request (default: as the OTEL_* variables ask);
        `kafka`: the Kafka front's settings (it runs when they name a bootstrap server)."""
        self.settings = settings
        self.registry = ModelRegistry(settings.model_repository, grace=settings.grace_seconds)
        self.tracing = tracing if tracing is not None else Tracing.from_environment()
        self.dataplane = DataPlane(self.registry, settings, self.tracing)
        self.registry.client = InProcessClient(self.dataplane)
        host = settings.host
        self._rest = HTTPListener(
            create_app(self.dataplane, settings),
            host,
            settings.http_port,
            "REST listening on http://{address} (docs at /docs)",
            settings.reuse_port,
        )
        self._grpc = GrpcListener(self.dataplane, settings)
        self._metrics: HTTPListener | None = None
        if settings.metrics_port is not None:
            self._metrics = HTTPListener(
                create_metrics_app(self.dataplane),
                host,
                settings.metrics_port,
                "metrics on http://{address}/metrics",
                settings.reuse_port,
            )
        self._peer: HTTPListener | None = None
        if settings.peers_dir is not None:  # a worker of --workers: a port for the others
            self.dataplane.peers = Peers(settings.peers_dir)
            self._peer = HTTPListener(
                PeerApp(create_app(self.dataplane, settings)),
                "127.0.0.1",
                0,
                "private port for the other workers on {address}",
            )
        self.kafka: KafkaFront | None = None
        """The Kafka front, when the settings name brokers."""
        if kafka is not None and kafka.bootstrap:
            from app.kafka.front import KafkaFront  # the kafka extra

            self.kafka = KafkaFront(self.dataplane, kafka)
        listeners: list[Listener | None] = [self.kafka, self._rest, self._grpc]
        listeners += [self._metrics, self._peer]
        self.listeners: list[Listener] = list(filter(None, listeners))
        """Every port the server answers on (the brokers first: when they cannot be reached,
        nothing else has been announced)."""
        self._stop_requested = asyncio.Event()
        self._cut_drain = asyncio.Event()
        self._drain = False
        self._stopped = False

    @property
    def http_port(self) -> int:
        return self._rest.port

    @property
    def grpc_port(self) -> int:
        return self._grpc.port

    @property
    def metrics_port(self) -> int | None:
        """The port of /metrics alone (None: only the REST port serves it)."""
        return self._metrics.port if self._metrics is not None else None

    async def start(self) -> None:
        """Listen on every port (readiness is 503 meanwhile), then load the models."""
        names = self.settings.startup_models()
        self._check_names(names)
        unloaded: set[str] = set()
        if self.dataplane.peers is not None:  # a worker: serve what the others serve now
            models = sorted(self.registry.folders())
            names, unloaded = self.dataplane.peers.startup(names, models)
        for listener in self.listeners:  # every port taken before anything is logged
            listener.bind()
        for listener in self.listeners:
            port = await listener.start()
            log.info(listener.announce.format(address=f"{self.settings.host}:{port}"))
        await self.registry.load_repository(names, unloaded)
        await self.dataplane.pipelines.load_repository(unloaded)
        if self._peer is not None and self.dataplane.peers is not None:
            self.dataplane.peers.register(self._peer.port)
            for name, action in self.dataplane.peers.missed():
                with contextlib.suppress(OIPError):  # what failed is in the index
                    await self.dataplane.change_here(name, action)
        self.dataplane.mark_started()
        await self._report_models()

    def _check_names(self, names: list[str] | None) -> None:
        """Fail before listening when --load-models or --ready-when names a model (or a
        pipeline) the repository lacks."""
        found = self.registry.folders()
        unknown = [name for name in names or () if name not in found]
        if unknown:
            raise ModelSettingsError(
                f"--load-models names {unknown[0]!r}, which is not a model folder of "
                f"{self.settings.model_repository}; models: {', '.join(sorted(found)) or 'none'}"
            )
        pipelines = [f"{name}.pipeline" for name in self.dataplane.pipelines.folders()]
        known = sorted([*found, *pipelines])
        required = self.settings.required_for_readiness() or ()
        unknown = [name for name in required if name not in known]
        if unknown:
            raise ModelSettingsError(
                f"--ready-when names {unknown[0]!r}, which is neither a model nor a pipeline "
                f"of {self.settings.model_repository}; those are: {', '.join(known) or 'none'}"
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
        if self.dataplane.peers is not None:
            self.dataplane.peers.unregister()
        if self.kafka is not None:  # no load balancer to drain: stop fetching at once
            self.kafka.close(grace)
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
        cut = monitor.cut + len(monitor.inflight)
        if cut:
            log.warning("shutdown: %d requests did not finish within %gs and were cut", cut, grace)
        else:
            log.info("shutdown: every request in flight has finished")
        await self.registry.unload_all()
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.shutdown)  # exports what is left
        log.info("shutdown complete")

    async def _close_listeners(self, grace: float) -> asyncio.Future[list[None]]:
        """Stop taking connections and calls on every port, now; the future is done once
        the requests in flight have finished (or were cancelled after `grace` s)."""
        for listener in self.listeners:
            listener.close(grace)
        stopped = asyncio.gather(*(listener.wait() for listener in self.listeners))
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
            try:
                await self.start()
            except BaseException:
                await self._abandon()
                raise
            await self._stop_requested.wait()
            await self.stop(drain=self.settings.drain_seconds if self._drain else 0.0)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    async def _abandon(self) -> None:
        """After a failed start: close what was opened, quietly (the error is the news)."""
        self._stopped = True
        self.dataplane.mark_stopping()
        for listener in self.listeners:
            listener.close(0)
        await asyncio.gather(*(listener.wait() for listener in self.listeners))
        await self.registry.unload_all()
