"""The REST side of an inference call: request id and X- headers in and back out, and
cancellation when the client goes away. `tracked` wraps the infer endpoint."""

from __future__ import annotations

import asyncio
import functools
import time
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


class _Watcher:
    """Watches the REST calls still running after WATCH_AFTER for their client leaving, and
    cancels those whose client left. A timer ticks while calls come in: a call costs two
    dict operations, and only long ones get a watching task."""

    def __init__(self) -> None:
        self.running: dict[Call, tuple[Request, asyncio.Task[Any]]] = {}
        self.watching: dict[Call, asyncio.Task[None]] = {}
        self.ticking = False
        self._seen = 0
        self._begun = 0

    def add(self, call: Call, request: Request, task: asyncio.Task[Any]) -> None:
        self.running[call] = (request, task)
        self._begun += 1
        if not self.ticking:
            self.ticking = True
            asyncio.get_running_loop().call_later(WATCH_AFTER, self._tick)

    def remove(self, call: Call) -> None:
        del self.running[call]
        if self.watching:
            watch = self.watching.pop(call, None)
            if watch is not None:
                watch.cancel()

    def _tick(self) -> None:
        if not self.running and self._begun == self._seen:
            self.ticking = False  # idle for a whole tick: the next call starts the timer
            return
        self._seen = self._begun
        old = time.perf_counter_ns() - int(WATCH_AFTER * 1e9)
        loop = asyncio.get_running_loop()
        for call, (request, task) in self.running.items():
            if call.started < old and call not in self.watching:
                self.watching[call] = loop.create_task(_watch(call, request, task))
        loop.call_later(WATCH_AFTER, self._tick)


async def _watch(call: Call, request: Request, task: asyncio.Task[Any]) -> None:
    # The body has been read, so the next message is the disconnect.
    if (await request.receive())["type"] == "http.disconnect":
        call.cancelled = CANCELLED
        task.cancel()


def _take_headers(request: Request, call: Call) -> None:
    for key, value in request.scope["headers"]:
        if key[:2] == b"x-":
            call.take_header(key.decode("latin-1"), value.decode("latin-1"))


def _encoded(pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(key.encode("latin-1"), value.encode("latin-1", "replace")) for key, value in pairs]


def tracked(dataplane: DataPlane, endpoint: Endpoint) -> Endpoint:
    """The infer endpoint, counted by the Monitor as one call."""
    monitor = dataplane.monitor
    watcher = _Watcher()

    @functools.wraps(endpoint)
    async def handle(
        request: Request, model_name: str, model_version: str | None = None
    ) -> Response:
        call = monitor.begin(REST, model_name)
        _take_headers(request, call)
        token = current_call.set(call)
        task = asyncio.current_task()
        assert task is not None
        watched = False
        try:
            await request.body()  # read before watching: the watch must not take body parts
            watcher.add(call, request, task)
            watched = True
            response = await endpoint(request, model_name, model_version)
        except asyncio.CancelledError as error:
            if call.cancelled != CANCELLED or task.uncancel():
                monitor.finish(call, error)
                raise
            monitor.finish(call, error)
            return Response(status_code=CLIENT_CLOSED)
        except BaseException as error:
            monitor.finish(call, error)
            request.scope[ECHO_HEADERS] = dict(call.echo())
            raise
        finally:
            if watched:
                watcher.remove(call)
            current_call.reset(token)
        monitor.finish(call, None)
        response.raw_headers.extend(_encoded(call.echo()))
        return response

    return handle
