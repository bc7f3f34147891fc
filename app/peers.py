"""The other workers of a `--workers` server, so that each answers for the whole server.

Each worker also serves its REST app on a private port (127.0.0.1, picked by the system) and
writes that port to a file named by its pid in the folder the supervisor gave it. A repository
load or unload through any worker is passed on to the others (through their private ports)
before it is answered; statistics and metrics are gathered from all of them and summed. What
a worker answers on its private port concerns itself only (`answering_a_peer`), so nothing
goes round."""

from __future__ import annotations

import asyncio
import contextlib
import os
from contextvars import ContextVar
from pathlib import Path
from urllib.parse import quote

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from app.metrics import merged_text
from app.protocol.errors import PredictorError
from app.protocol.types import ModelStatistics, ModelStatisticsResponse
from app.stats import merged

answering_a_peer: ContextVar[bool] = ContextVar("answering_a_peer", default=False)
"""True while a worker answers another worker (on its private port)."""


class PeerApp:
    """A worker's REST app as its private port serves it: for other workers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = answering_a_peer.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            answering_a_peer.reset(token)


class Peers:
    """The workers registered in `folder`, this one aside. What it asks of them is asked only
    when this worker answers a client, not another worker."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.me = self.folder / str(os.getpid())

    def register(self, port: int) -> None:
        self.me.write_text(str(port))

    def unregister(self) -> None:
        self.me.unlink(missing_ok=True)

    def ports(self) -> list[int]:
        """The private ports of the other workers that are up."""
        found = []
        for path in self.folder.iterdir():
            if (
                path != self.me
                and path.name.isascii()
                and path.name.isdigit()
                and _alive(int(path.name))
            ):
                with contextlib.suppress(OSError, ValueError):
                    found.append(int(path.read_text()))
        return found

    async def repository(self, name: str, action: str) -> None:
        """Load or unload (`action`) model `name` on every other worker; PredictorError naming
        the workers where it failed."""
        if answering_a_peer.get():
            return
        path = f"/v2/repository/models/{quote(name, safe='')}/{action}"
        answers = await self._each("POST", path)
        failed = [f"{port}: {text}" for port, status, text in answers if status != 200]
        if failed:
            raise PredictorError(f"{path} failed on other workers: {'; '.join(failed)}")

    async def statistics(
        self, found: list[ModelStatistics], name: str | None, version: str | None
    ) -> list[ModelStatistics]:
        """This worker's statistics (`found`, of model `name` or every one, of `version` or
        every one) summed with the other workers'."""
        if answering_a_peer.get():
            return found
        path = "/v2/models/stats"
        if name is not None:
            path = f"/v2/models/{quote(name, safe='')}"
            path += f"/versions/{quote(version, safe='')}/stats" if version else "/stats"
        each: dict[tuple[str, str], list[ModelStatistics]] = {}
        for report in found:
            each[report.name, report.version] = [report]
        for text in await self._texts(path):
            for report in ModelStatisticsResponse.model_validate_json(text).model_stats:
                each.setdefault((report.name, report.version), []).append(report)
        return [merged(reports) for reports in each.values()]

    async def metrics(self, local: bytes) -> bytes:
        """This worker's metrics text (`local`) with the other workers' added in."""
        if answering_a_peer.get():
            return local
        texts = await self._texts("/metrics")
        return merged_text([local.decode(), *texts]) if texts else local

    async def _texts(self, path: str) -> list[str]:
        """What every other worker answers to GET `path` (those that answer 200)."""
        return [text for _, status, text in await self._each("GET", path) if status == 200]

    async def _each(self, method: str, path: str) -> list[tuple[int, int, str]]:
        ports = self.ports()
        if not ports:
            return []
        async with httpx.AsyncClient(timeout=60) as client:

            async def ask(port: int) -> tuple[int, int, str]:
                try:
                    answer = await client.request(method, f"http://127.0.0.1:{port}{path}")
                except httpx.TransportError as error:
                    return port, 0, f"unreachable ({type(error).__name__})"
                return port, answer.status_code, answer.text

            return list(await asyncio.gather(*(ask(port) for port in ports)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
