"""The one place REST maps errors to answers: `{"error": "<message>"}` with the status from
the shared table. FastAPI's own 422 and Starlette's 404/405 take the same shape, and raw
ASGI answers (the inference routes, the body limit) go through `send_error`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.protocol.codecs.messages import not_an_object
from app.protocol.errors import OIPError, PayloadTooLarge, Status
from app.rest.responses import JSONBody

log = logging.getLogger("oipserve.rest")
Headers = Sequence[tuple[bytes, bytes]]
_NOT_AN_OBJECT = frozenset({"model_type", "model_attributes_type", "dict_type"})
"""Pydantic's error types for a value that should have been an object."""


def error_status(error: Exception, method: str, path: str) -> tuple[int, str]:
    """The HTTP status and message for an error raised while answering `method path`: a
    protocol error's own status and message, anything else a logged 500."""
    if isinstance(error, OIPError):
        return error.status.http, error.message
    log.error("unexpected error on %s %s", method, path, exc_info=error)
    return Status.INTERNAL.http, f"internal error: {type(error).__name__}"


async def send_error(
    send: Send, error: Exception, method: str, path: str, extra: Headers = ()
) -> None:
    """Answer `error` on a raw ASGI connection (the direct routes and the body limit), with
    the `extra` headers. A body over the limit also closes the connection, so that the rest
    of it is never read."""
    status, message = error_status(error, method, path)
    body = orjson.dumps({"error": message})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    headers += extra
    if isinstance(error, PayloadTooLarge):
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def error_response(status: int, message: str) -> JSONBody:
    return JSONBody({"error": message}, status_code=status)


async def _any_error(request: Request, error: Exception) -> JSONBody:
    return error_response(*error_status(error, request.method, request.url.path))


async def _validation_error(request: Request, error: Exception) -> JSONBody:
    assert isinstance(error, RequestValidationError)
    problems = list(error.errors())
    if len(problems) == 1 and _body_not_an_object(problems[0]):
        message = not_an_object(problems[0].get("input"))
    else:
        message = "invalid request: " + "; ".join(map(_describe, problems))
    return error_response(Status.INVALID_ARGUMENT.http, message)


def _body_not_an_object(problem: Any) -> bool:
    """Whether a validation problem is a whole body (ours or FastAPI's) that is no object."""
    return tuple(problem["loc"]) in {(), ("body",)} and problem["type"] in _NOT_AN_OBJECT


def _describe(problem: Any) -> str:
    location = ".".join(str(part) for part in problem["loc"])
    return f"{location}: {problem['msg']}" if location else str(problem["msg"])


async def _http_error(request: Request, error: Exception) -> JSONBody:
    assert isinstance(error, HTTPException)
    message = error.detail if isinstance(error.detail, str) else str(error.detail)
    if error.status_code == 404:
        message = f"no route for {request.method} {request.url.path}"
    return JSONBody({"error": message}, status_code=error.status_code, headers=error.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OIPError, _any_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _any_error)


class AnswersBugs:
    """Pure ASGI middleware, inside the server's own: an error no handler took (a bug) is
    answered with a logged JSON 500 and goes no further. Starlette's outermost middleware
    answers it too, but then raises it on to the server, which drops the connection, and
    with it the client's next request on that connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            if started:
                raise  # the answer is under way: only the server can end it
            await send_error(send, error, scope["method"], scope["path"])
