"""The REST side of an inference call, as an ASGI wrapper around whatever answers the infer
route: request id and X- headers in and back out, the outcome from the answer's status, and
cancellation when the client goes away. `create_app` wraps the infer endpoint in it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.calls import CANCELLED, REST, SUCCESS, Call, current_call, outcome_of
from app.dataplane import DataPlane
from app.protocol.errors import status_for_http

WATCH_AFTER = 0.1
"""Seconds after which a request whose model is running starts watching for its client."""


class _Watcher:
    """Watches the REST calls whose model has been running for WATCH_AFTER for their client
    leaving, and cancels those whose client left. A timer ticks while calls come in: a call
    costs two dict operations, and only long ones get a watching task."""

    def __init__(self) -> None:
        self.running: dict[Call, tuple[Receive, asyncio.Task[Any]]] = {}
        self.watching: dict[Call, asyncio.Task[None]] = {}
        self.ticking = False
        self._seen = 0
        self._begun = 0

    def add(self, call: Call, receive: Receive, task: asyncio.Task[Any]) -> None:
        self.running[call] = (receive, task)
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
        for call, (receive, task) in self.running.items():
            # a running model means the body has been read: the next message is the disconnect
            if 0 < call.infer_started < old and call not in self.watching:
                self.watching[call] = loop.create_task(_watch(call, receive, task))
        loop.call_later(WATCH_AFTER, self._tick)


async def _watch(call: Call, receive: Receive, task: asyncio.Task[Any]) -> None:
    if (await receive())["type"] == "http.disconnect":
        call.cancelled = CANCELLED
        task.cancel()


def _outcome(status: int) -> str:
    return SUCCESS if status < 400 else status_for_http(status).name.lower()


def _encoded(pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(key.encode("latin-1"), value.encode("latin-1", "replace")) for key, value in pairs]


class TrackedInfer:
    """Wraps the ASGI app of the infer route: each request is one call of the Monitor."""

    def __init__(self, dataplane: DataPlane, app: ASGIApp) -> None:
        self.monitor = dataplane.monitor
        self.app = app
        self.watcher = _Watcher()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        call = self.monitor.begin(REST, scope["path_params"]["model_name"])
        for key, value in scope["headers"]:
            if key[:2] == b"x-":
                call.take_header(key.decode("latin-1"), value.decode("latin-1"))
        status = 0

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *_encoded(call.echo())]
            await send(message)

        task = asyncio.current_task()
        assert task is not None
        token = current_call.set(call)
        self.watcher.add(call, receive, task)
        try:
            await self.app(scope, receive, answer)
        except asyncio.CancelledError as error:
            if call.cancelled != CANCELLED or task.uncancel():
                self.monitor.finish(call, outcome_of(error))
                raise
            self.monitor.finish(call, CANCELLED)  # the client is gone: nothing to answer
            return
        except BaseException as error:
            self.monitor.finish(call, outcome_of(error))
            raise
        finally:
            self.watcher.remove(call)
            current_call.reset(token)
        self.monitor.finish(call, _outcome(status))
