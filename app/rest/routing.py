"""The inference routes: documented by FastAPI like any route, answered by a raw ASGI app.

FastAPI's per-route machinery (the router walk, Request objects, dependency solving) costs
several times what the inference itself does for a small tensor. `InferRoutes` is the
innermost middleware of the application: every middleware around it (the server's own and
a user's) sees the inference requests, which it hands straight to their ASGI app; any other
request goes on to FastAPI's router. A `DirectRoute` keeps its place in the OpenAPI schema
(FastAPI reads `endpoint`'s signature and `openapi_extra`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Path
from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[..., Coroutine[Any, Any, Any]]
NamePath = Annotated[
    str,
    Path(
        description="The model's name",
        openapi_examples={"iris": {"summary": "the bundled iris model", "value": "iris"}},
    ),
]
"""The `model_name` path parameter, documented with an example that works (/docs' Try it out)."""
VersionPath = Annotated[
    str | None,
    Path(
        description="One version of the model",
        openapi_examples={"1": {"summary": "iris' only version", "value": "1"}},
    ),
]
"""The `model_version` path parameter (None in the routes without it, see without_version)."""


class DirectRoute(APIRoute):
    """A route that FastAPI documents from `endpoint` and that `serve` (raw ASGI) answers,
    with the path parameters in `scope["path_params"]`."""

    def __init__(
        self, path: str, endpoint: Endpoint, *, serve: ASGIApp, methods: list[str], **options: Any
    ) -> None:
        super().__init__(path, endpoint, methods=methods, **options)
        self.app = serve
        self.methods: set[str] = set(methods)


class InferRoutes:
    """Pure ASGI middleware: requests for one of `routes` go to its app, the others to `app`."""

    def __init__(self, app: ASGIApp, routes: list[DirectRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                if scope["method"] in route.methods and (
                    match := route.path_regex.match(scope["path"])
                ):
                    scope["path_params"] = match.groupdict()
                    await route.app(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def without_version(endpoint: Endpoint) -> Endpoint:
    """The same endpoint, documented without the `model_version` path parameter and called
    with `model_version=None` (for the routes whose path has none)."""

    @functools.wraps(endpoint)
    async def unversioned(*args: Any, **kwargs: Any) -> Response:
        return await endpoint(*args, model_version=None, **kwargs)  # type: ignore[no-any-return]  # a Response

    signature = inspect.signature(endpoint, eval_str=True)  # its annotations, resolved here
    kept = [p for p in signature.parameters.values() if p.name != "model_version"]
    unversioned.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]  # read by inspect.signature
    return unversioned
