"""Direct routes: documented by FastAPI, answered by a raw ASGI app before the middleware stack.

FastAPI's per-request machinery (middlewares, the router walk, Request objects, dependency
solving) costs several times what the inference itself does for a small tensor. A direct
route keeps its place in the OpenAPI schema (FastAPI reads `endpoint`'s signature and
`openapi_extra`), while `OIPApplication` hands matching requests straight to its ASGI app.
Per-request features of such a route (request ids, metrics, deadlines) therefore live in that
ASGI app, not in middleware.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import FastAPI, Path
from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.protocol.errors import PayloadTooLarge
from app.rest.errors import send_error
from app.rest.limits import check_declared, declared_length

Endpoint = Callable[..., Coroutine[Any, Any, Any]]
ModelName = Annotated[
    str,
    Path(
        description="The model's name",
        openapi_examples={"iris": {"summary": "the bundled iris model", "value": "iris"}},
    ),
]
"""The `model_name` path parameter, documented with an example that works (/docs' Try it out)."""
ModelVersion = Annotated[
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


class OIPApplication(FastAPI):
    """FastAPI, plus direct routes dispatched ahead of the middleware stack and the router."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._direct: list[DirectRoute] = []

    def add_direct_route(self, route: DirectRoute) -> None:
        self.router.routes.append(route)
        self._direct.append(route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self._direct:
                if scope["method"] in route.methods and (
                    match := route.path_regex.match(scope["path"])
                ):
                    scope["path_params"] = match.groupdict()
                    await route.app(scope, receive, send)
                    return
            if self.max_body_size is not None:
                # FastAPI would answer a declared oversize body in plain text; a body that
                # streams past the limit reaches the HTTPException handler (app.rest.errors)
                try:
                    check_declared(declared_length(scope), self.max_body_size)
                except PayloadTooLarge as error:
                    await send_error(send, error, scope["method"], scope["path"])
                    return
        await super().__call__(scope, receive, send)


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
