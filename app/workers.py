"""`--workers N`: N server processes on the same ports, kept by a supervisor.

The supervisor binds nothing itself: it starts N `oipserve serve` processes with the same
settings and `reuse_port` on, so that each binds the REST and gRPC ports with SO_REUSEPORT and
the kernel spreads new connections over them. A worker that dies is started again (after a
pause that grows while workers keep dying at once). SIGTERM or SIGINT reaches every worker,
which drains as a lone server does; the supervisor waits for all of them, then exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from app.kafka.settings import KafkaSettings
from app.settings import ServerSettings, as_environment

log = logging.getLogger("oipserve.workers")
_RESTART_PAUSE = (0.5, 10.0)
"""Seconds before a dead worker starts again: the first pause, the longest."""


def worker_environment(settings: ServerSettings) -> dict[str, str]:
    """The environment that gives a worker the supervisor's settings, one worker, ports
    shared."""
    values = settings.model_dump(mode="json", exclude_unset=False)
    values.update(workers=1, reuse_port=True)
    return {**os.environ, **as_environment(values, "OIPSERVE_")}


class Supervisor:
    """Runs `settings.workers` workers until SIGTERM or SIGINT."""

    def __init__(self, settings: ServerSettings, kafka: KafkaSettings | None = None) -> None:
        if settings.workers > 1 and 0 in (settings.http_port, settings.grpc_port):
            raise ValueError("--workers needs fixed ports: workers share them (not port 0)")
        self.settings = settings
        self.peers = Path(tempfile.mkdtemp(prefix="oipserve-workers-"))
        """Where the workers find each other (app.peers)."""
        self.environment = worker_environment(settings.model_copy(update={"peers_dir": self.peers}))
        if kafka is not None:  # each worker reads the topics, in one consumer group
            self.environment.update(kafka.environment())
        self.workers: dict[int, asyncio.subprocess.Process] = {}
        self._stopping = asyncio.Event()

    async def run(self) -> int:
        """Start the workers, keep them, stop them on a signal; the exit code (0)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            await asyncio.gather(*(self._keep(slot) for slot in range(self.settings.workers)))
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            shutil.rmtree(self.peers, ignore_errors=True)
        log.info("supervisor: every worker has stopped")
        return 0

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("supervisor: %s, stopping %d workers", sig.name, len(self.workers))
        self._stopping.set()
        for process in self.workers.values():
            if process.returncode is None:
                process.send_signal(sig)

    async def _keep(self, slot: int) -> None:
        """Run worker `slot` until the supervisor stops, starting it again when it dies."""
        pause = _RESTART_PAUSE[0]
        while not self._stopping.is_set():
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "app", "serve", env=self.environment
            )
            self.workers[slot] = process
            started = time.monotonic()
            log.info("supervisor: worker %d started (pid %d)", slot, process.pid)
            code = await process.wait()
            if self._stopping.is_set():
                return
            log.error("supervisor: worker %d (pid %d) exited with %d", slot, process.pid, code)
            if time.monotonic() - started > _RESTART_PAUSE[1]:
                pause = _RESTART_PAUSE[0]  # it had been running: not a crash loop
            try:
                await asyncio.wait_for(self._stopping.wait(), pause)
            except TimeoutError:
                pause = min(pause * 2, _RESTART_PAUSE[1])
