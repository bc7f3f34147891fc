"""Once the server is stopping, every REST answer says `Connection: close`.

After SIGTERM the server keeps serving for --drain-seconds while readiness is 503. Answers in
that time close their connection, so that clients open new ones (which the ports, once they
close, refuse cleanly) instead of reusing one the server is about to close under them: a
request sent on an idle keep-alive connection just as it closes would be lost in between.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.dataplane import DataPlane

_CLOSE = (b"connection", b"close")


class CloseWhenDraining:
    """Adds `Connection: close` to every answer once `dataplane` is stopping."""

    def __init__(self, app: ASGIApp, dataplane: DataPlane) -> None:
        self.app = app
        self.dataplane = dataplane

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.dataplane.stopping:
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), _CLOSE]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, closing)
