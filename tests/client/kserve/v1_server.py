"""A KServe v1 model server (KServe's own ModelServer) for the client's v1 tests.

    python v1_server.py --http_port PORT

Model `doubler`: predictions are the instances times two (or, for instances that are objects,
the sum of their values); explanations are ones of the same shape.
"""

from __future__ import annotations

from typing import Any

from kserve import Model, ModelServer


def _double(row: Any) -> Any:
    if isinstance(row, dict):
        return sum(_total(value) for value in row.values())
    if isinstance(row, list):
        return [_double(item) for item in row]
    return 2 * row


def _total(value: Any) -> Any:
    return sum(_total(item) for item in value) if isinstance(value, list) else value


def _ones(row: Any) -> Any:
    return [_ones(item) for item in row] if isinstance(row, list) else 1.0


class Doubler(Model):  # type: ignore[misc]  # kserve is untyped
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.ready = True

    async def predict(self, payload: dict[str, Any], headers: Any = None) -> dict[str, Any]:
        return {"predictions": [_double(row) for row in payload["instances"]]}

    async def explain(self, payload: dict[str, Any], headers: Any = None) -> dict[str, Any]:
        return {"explanations": [_ones(row) for row in payload["instances"]]}


if __name__ == "__main__":
    ModelServer(enable_grpc=False).start([Doubler("doubler")])
