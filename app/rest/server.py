"""uvicorn as one of the server's listeners, serving a FastAPI application in our loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI


class _UvicornServer(uvicorn.Server):
    """uvicorn inside our loop: signals belong to `app.server.Server`, not to uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(server: uvicorn.Server) -> None:
    """uvicorn's serve(), whose sys.exit on a failed bind becomes a plain return (a
    SystemExit escaping a task would stop the whole event loop)."""
    with contextlib.suppress(SystemExit):
        await server.serve()


class HTTPListener:
    """One uvicorn server running as a task of our loop."""

    def __init__(self, app: FastAPI, host: str, port: int, announce: str) -> None:
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
        self.announce = announce
        """The log line saying where it listens, with `{address}` for host:port."""
        self.server = _UvicornServer(config)
        self.task: asyncio.Task[None] | None = None
        self.port = 0

    async def start(self) -> int:
        """Listen; the port bound (OSError if it cannot be)."""
        self.task = asyncio.create_task(_serve(self.server))
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
