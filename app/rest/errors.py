"""The one place REST maps errors to answers: `{"error": "<message>"}` with the status from
the shared table. FastAPI's own 422 and Starlette's 404/405/413 take the same shape, and raw
ASGI answers (the direct inference route, the body limit) go through `send_error`."""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.types import Send

from app.protocol.errors import OIPError, PayloadTooLarge, Status
from app.rest.limits import too_large
from app.rest.responses import JSONBody

log = logging.getLogger("oipserve.rest")


def error_status(error: Exception, method: str, path: str) -> tuple[int, str]:
    """The HTTP status and message for an error raised while answering `method path`: a
    protocol error's own status and message, anything else a logged 500."""
    if isinstance(error, OIPError):
        return error.status.http, error.message
    log.error("unexpected error on %s %s", method, path, exc_info=error)
    return Status.INTERNAL.http, f"internal error: {type(error).__name__}"


async def send_error(send: Send, error: Exception, method: str, path: str) -> None:
    """Answer `error` on a raw ASGI connection (the direct routes and the body limit). A body
    over the limit also closes the connection, so that the rest of it is never read."""
    status, message = error_status(error, method, path)
    body = orjson.dumps({"error": message})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
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
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in error.errors()
    )
    return error_response(Status.INVALID_ARGUMENT.http, f"invalid request: {problems}")


async def _http_error(request: Request, error: Exception) -> JSONBody:
    assert isinstance(error, HTTPException)
    message = error.detail if isinstance(error.detail, str) else str(error.detail)
    if error.status_code == 404:
        message = f"no route for {request.method} {request.url.path}"
    elif error.status_code == 413 and isinstance(request.app.max_body_size, int):
        message = too_large(request.app.max_body_size).message  # FastAPI's own body limit
    return JSONBody({"error": message}, status_code=error.status_code, headers=error.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OIPError, _any_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _any_error)
