"""The REST side of an inference call: request id and X- headers in and back out, and
cancellation when the client goes away. `tracked` wraps the infer endpoint."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.calls import CANCELLED, REST, Call, current_call
from app.dataplane import DataPlane
from app.rest.errors import ECHO_HEADERS
from app.rest.routing import Endpoint

WATCH_AFTER = 0.1
"""Seconds after which a request still running starts watching for its client to leave."""
CLIENT_CLOSED = 499
"""The status logged for a request whose client went away (nginx's convention)."""


class _Watch:
    """From WATCH_AFTER on, cancels `task` when the client disconnects."""

    __slots__ = ("disconnected", "receive", "task", "timer", "watcher")

    def __init__(self, request: Request, task: asyncio.Task[Any]) -> None:
        self.receive = request.receive
        self.task = task
        self.disconnected = False
        self.watcher: asyncio.Task[None] | None = None
        self.timer = asyncio.get_running_loop().call_later(WATCH_AFTER, self._start)

    def _start(self) -> None:
        self.watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        # The body has been read, so the next message is the disconnect.
        if (await self.receive())["type"] == "http.disconnect":
            self.disconnected = True
            self.task.cancel()

    def stop(self) -> None:
        self.timer.cancel()
        if self.watcher is not None:
            self.watcher.cancel()


def _take_headers(request: Request, call: Call) -> None:
    for key, value in request.scope["headers"]:
        if key[:2] == b"x-":
            call.take_header(key.decode("latin-1"), value.decode("latin-1"))


def _encoded(pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(key.encode("latin-1"), value.encode("latin-1", "replace")) for key, value in pairs]


def tracked(dataplane: DataPlane, endpoint: Endpoint) -> Endpoint:
    """The infer endpoint, counted by the Monitor as one call."""
    monitor = dataplane.monitor

    @functools.wraps(endpoint)
    async def handle(
        request: Request, model_name: str, model_version: str | None = None
    ) -> Response:
        call = monitor.begin(REST, model_name)
        _take_headers(request, call)
        token = current_call.set(call)
        task = asyncio.current_task()
        assert task is not None
        watch: _Watch | None = None
        try:
            await request.body()  # read before watching: the watch must not take body parts
            watch = _Watch(request, task)
            response = await endpoint(request, model_name, model_version)
        except asyncio.CancelledError as error:
            if watch is None or not watch.disconnected or task.uncancel():
                monitor.finish(call, error)
                raise
            call.cancelled = CANCELLED
            monitor.finish(call, error)
            return Response(status_code=CLIENT_CLOSED)
        except BaseException as error:
            monitor.finish(call, error)
            request.scope[ECHO_HEADERS] = dict(call.echo())
            raise
        finally:
            if watch is not None:
                watch.stop()
            current_call.reset(token)
        monitor.finish(call, None)
        response.raw_headers.extend(_encoded(call.echo()))
        return response

    return handle
