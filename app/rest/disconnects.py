"""Cancels the REST inference requests whose client went away.

Once a request's body has been read, the next ASGI message is the client's disconnect. A
timer ticks while requests come in; a request still running after WATCH_AFTER gets a task
that waits for that message and cancels the request's task when it comes. A request costs
two dict operations; only long ones get a watching task."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.types import Receive

from app.context import CANCELLED, RequestContext

WATCH_AFTER = 0.1
"""Seconds after which a running request starts watching for its client."""


class Disconnects:
    """The requests running (their receive, their task, since when) and those watched."""

    def __init__(self) -> None:
        self.running: dict[RequestContext, tuple[Receive, asyncio.Task[Any], int]] = {}
        self.watching: dict[RequestContext, asyncio.Task[None]] = {}
        self.ticking = False
        self._seen = 0
        self._begun = 0

    def add(self, context: RequestContext, receive: Receive, task: asyncio.Task[Any]) -> None:
        """The request of `context` runs in `task`; its body has been read from `receive`."""
        self.running[context] = (receive, task, time.perf_counter_ns())
        self._begun += 1
        if not self.ticking:
            self.ticking = True
            asyncio.get_running_loop().call_later(WATCH_AFTER, self._tick)

    def remove(self, context: RequestContext) -> None:
        del self.running[context]
        if self.watching:
            watch = self.watching.pop(context, None)
            if watch is not None:
                watch.cancel()

    def _tick(self) -> None:
        if not self.running and self._begun == self._seen:
            self.ticking = False  # idle for a whole tick: the next request starts the timer
            return
        self._seen = self._begun
        old = time.perf_counter_ns() - int(WATCH_AFTER * 1e9)
        loop = asyncio.get_running_loop()
        for context, (receive, task, since) in self.running.items():
            if since < old and context not in self.watching:
                self.watching[context] = loop.create_task(_watch(context, receive, task))
        loop.call_later(WATCH_AFTER, self._tick)


async def _watch(context: RequestContext, receive: Receive, task: asyncio.Task[Any]) -> None:
    if (await receive())["type"] == "http.disconnect":
        context.cancelled = CANCELLED
        task.cancel()
