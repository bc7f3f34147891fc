"""The one place REST maps errors to answers: `{"error": "<message>"}` with the status from
the shared table. FastAPI's own 422 and Starlette's 404/405 take the same shape."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from app.protocol.errors import OIPError, Status
from app.rest.responses import JSONBody

log = logging.getLogger("oipserve.rest")

ECHO_HEADERS = "oipserve.echo_headers"
"""Scope key of the headers an error answer carries back (request id, X- headers)."""


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONBody:
    return JSONBody({"error": message}, status_code=status, headers=headers)


async def _oip_error(request: Request, error: Exception) -> JSONBody:
    assert isinstance(error, OIPError)
    return error_response(error.status.http, error.message, request.scope.get(ECHO_HEADERS))


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
    return JSONBody({"error": message}, status_code=error.status_code, headers=error.headers)


async def _unexpected(request: Request, error: Exception) -> JSONBody:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(
        Status.INTERNAL.http,
        f"internal error: {type(error).__name__}",
        request.scope.get(ECHO_HEADERS),
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OIPError, _oip_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
