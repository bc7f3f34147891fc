"""One real server process on the bundled models for every interop test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.process import ROOT, ServerProcess, serve


@pytest.fixture(scope="package")
def bundled() -> Iterator[ServerProcess]:
    """`python -m app serve models` on 127.0.0.1, ports picked by the system."""
    with serve(ROOT / "models") as server:
        yield server
