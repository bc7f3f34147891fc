from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kafka.broker import running_broker


@pytest.fixture
def broker() -> Iterator[str]:
    """A fresh broker's bootstrap address (127.0.0.1:port)."""
    with running_broker() as bootstrap:
        yield bootstrap
