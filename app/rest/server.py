"""uvicorn as one of the server's listeners, serving a FastAPI application in our loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp


class _UvicornServer(uvicorn.Server):
    """uvicorn inside our loop: signals belong to `app.server.Server`, not to uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(server: uvicorn.Server, listening: socket.socket) -> None:
    """uvicorn's serve() on our socket; a SystemExit (uvicorn's answer to a failure) becomes
    a plain return: escaping a task, it would stop the whole event loop."""
    with contextlib.suppress(SystemExit):
        await server.serve(sockets=[listening])


def _bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to host:port (shared with other processes that bind it so when
    `reuse_port`), before uvicorn starts: OSError saying why not, with nothing logged."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listening.bind((host.strip("[]"), port))
    except OSError as error:
        listening.close()
        raise OSError(f"cannot listen for HTTP on {host}:{port}: {error.strerror}") from None
    return listening


class HTTPListener:
    """One uvicorn server running as a task of our loop."""

    def __init__(
        self, app: ASGIApp, host: str, port: int, announce: str, reuse_port: bool = False
    ) -> None:
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
        self.reuse_port = reuse_port
        """The log line saying where it listens, with `{address}` for host:port."""
        self.server = _UvicornServer(config)
        self.task: asyncio.Task[None] | None = None
        self.port = 0
        self._socket: socket.socket | None = None

    def bind(self) -> None:
        """Take the port (OSError saying why it cannot be), before uvicorn logs anything."""
        config = self.server.config
        self._socket = _bind(config.host, config.port, self.reuse_port)
        self.port = self._socket.getsockname()[1]

    async def start(self) -> int:
        """Serve on the port bound."""
        assert self._socket is not None
        config = self.server.config
        self.task = asyncio.create_task(_serve(self.server, self._socket))
        while not self.server.started:
            if self.task.done():
                raise OSError(f"cannot listen for HTTP on {config.host}:{config.port}")
            await asyncio.sleep(0.01)
        return self.port

    def close(self, grace: float) -> None:
        """Stop accepting connections now and ask the open ones to close once their answer
        is sent (uvicorn would notice `should_exit` only on its next 0.1 s tick); requests
        in flight get `grace` seconds, then are cancelled."""
        self.server.config.timeout_graceful_shutdown = grace  # type: ignore[assignment]  # uvicorn reads it as seconds; floats work
        self.server.should_exit = True
        for listening in getattr(self.server, "servers", ()):  # set once uvicorn serves
            listening.close()
        if self.task is None and self._socket is not None:  # bound, never served
            self._socket.close()
        for connection in list(self.server.server_state.connections):
            connection.shutdown()

    async def wait(self) -> None:
        """Until the requests in flight have finished (or were cancelled)."""
        if self.task is not None:
            await self.task
