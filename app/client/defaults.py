"""The `USE_CLIENT_DEFAULT` marker for per-call timeouts (no third-party imports, so the gRPC
client works without httpx)."""

from __future__ import annotations


class UseClientDefault:
    """The default of a per-call `timeout`: use the client's. (`None` means no timeout.)"""

    def __repr__(self) -> str:
        return "USE_CLIENT_DEFAULT"


USE_CLIENT_DEFAULT = UseClientDefault()
