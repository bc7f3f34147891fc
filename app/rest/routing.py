"""LeanRoute: a documented FastAPI route without per-request dependency solving."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

Endpoint = Callable[..., Coroutine[Any, Any, Response]]


class LeanRoute(APIRoute):
    """FastAPI documents the route from the endpoint's signature and `openapi_extra`; at run
    time the endpoint is called directly with the Request and the path parameters, and the
    Response it returns goes out as is (no validation, no `jsonable_encoder`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            return await endpoint(request, **request.path_params)

        return handle


def without_version(endpoint: Endpoint) -> Endpoint:
    """The same endpoint, documented without the `model_version` path parameter (for the
    routes whose path has none)."""

    @functools.wraps(endpoint)
    async def unversioned(*args: Any, **kwargs: Any) -> Response:
        return await endpoint(*args, **kwargs)

    signature = inspect.signature(endpoint)
    kept = [p for p in signature.parameters.values() if p.name != "model_version"]
    unversioned.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]  # read by inspect.signature
    return unversioned
