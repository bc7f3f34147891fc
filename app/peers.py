"""The other workers of a `--workers` server, so that each answers for the whole server.

Each worker also serves its REST app on a private port (127.0.0.1, picked by the system) and
writes that port to a file named by its pid in the folder the supervisor gave it. A repository
load or unload through any worker is passed on to the others (through their private ports)
before it is answered, and written down in the folder, so that a worker started later (after
one died) serves what the others serve (`Peers.startup`); statistics and metrics are gathered
from all of them and summed. What a worker answers on its private port concerns itself only
(`answering_a_peer`), so nothing goes round."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
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

_CHANGES = "repository-changes.json"
"""The file, in the workers' folder, of the loads and unloads asked through the repository
API: {name: "load" or "unload"}, the latest last."""

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
        self._adopted: dict[str, str] = {}
        """The changes `startup` read."""

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

    def remember(self, name: str, action: str) -> None:
        """Write down that `name` (a model, or `p.pipeline`) was loaded or unloaded (`action`)
        through the repository API, for the workers that start later."""
        with open(self.folder / f"{_CHANGES}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers write it too
            changes = self.changes()
            changes.pop(name, None)
            changes[name] = action
            written = self.folder / f"{_CHANGES}.{os.getpid()}"
            written.write_text(json.dumps(changes))
            written.replace(self.folder / _CHANGES)

    def changes(self) -> dict[str, str]:
        """The loads and unloads asked through the repository API so far (`remember`)."""
        with contextlib.suppress(FileNotFoundError):
            found: dict[str, str] = json.loads((self.folder / _CHANGES).read_text())
            return found
        return {}

    def startup(self, names: list[str] | None, models: list[str]) -> tuple[list[str], set[str]]:
        """For a worker starting, after what the repository API changed since the server
        started: the models to load (`names` as --load-models gives them, None for all of the
        repository's `models`), and what was unloaded (models, and pipelines as
        `p.pipeline`)."""
        changes = self._adopted = self.changes()
        unloaded = {name for name, action in changes.items() if action == "unload"}
        chosen = [name for name in (models if names is None else names) if name not in unloaded]
        chosen += [
            name
            for name, action in changes.items()
            if action == "load" and name in models and name not in chosen
        ]
        return chosen, unloaded

    def missed(self) -> list[tuple[str, str]]:
        """The changes written since `startup` read them (while this worker loaded, before
        the others could tell it): to make once it is registered."""
        adopted = self._adopted
        return [(name, act) for name, act in self.changes().items() if adopted.get(name) != act]

    async def repository(self, name: str, action: str) -> None:
        """Load or unload (`action`) model `name` on every other worker, and remember it for
        those that start later; PredictorError naming the workers where it failed."""
        if answering_a_peer.get():
            return
        self.remember(name, action)
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
