"""What both clients share without third-party imports (so the gRPC client works without
httpx): the `USE_CLIENT_DEFAULT` marker for per-call timeouts, and the async context manager
protocol."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class UseClientDefault:
    """The default of a per-call `timeout`: use the client's. (`None` means no timeout.)"""

    def __repr__(self) -> str:
        return "USE_CLIENT_DEFAULT"


USE_CLIENT_DEFAULT = UseClientDefault()


class ClosingClient:
    """An async context manager that calls `close()` on the way out."""

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
