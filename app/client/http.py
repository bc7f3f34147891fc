"""The REST client's one way to send a request: retries with exponential backoff, verbose
logging, and httpx failures and HTTP error answers turned into the client's exceptions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
import orjson
import pydantic

from app.client.config import RESTConfig, TimeoutTypes
from app.client.defaults import USE_CLIENT_DEFAULT, UseClientDefault
from app.client.errors import Scope, ServerUnreachable, closed, error_for_http
from app.protocol.errors import DeadlineExceeded, InvalidResponse, OIPError

log = logging.getLogger("oipserve.client")

FIRST_BACKOFF = 0.1
"""Seconds before the first retry; each further retry waits twice as long."""
MAX_BACKOFF = 2.0
_RETRIED_STATUS = 503

Timeout = TimeoutTypes | UseClientDefault
Model = TypeVar("Model", bound=pydantic.BaseModel)


def backoff(attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (0 for the first retry)."""
    return min(FIRST_BACKOFF * 2.0**attempt, MAX_BACKOFF)


def _httpx_timeout(timeout: Timeout) -> Any:
    return httpx.USE_CLIENT_DEFAULT if isinstance(timeout, UseClientDefault) else timeout


class HTTPSender:
    """Sends requests through one `httpx.AsyncClient` built from a RESTConfig."""

    def __init__(self, config: RESTConfig) -> None:
        self.config = config
        self.client = httpx.AsyncClient(
            transport=config.transport,
            http2=config.http2,
            timeout=config.timeout,
            auth=config.auth,
            verify=config.ssl_context() if config.transport is None else True,
        )

    async def send(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        retry_unavailable: bool = True,
    ) -> httpx.Response:
        """The answer to one request, after up to `config.retries` retries of connection
        failures (and of 503 answers when `retry_unavailable`). Error answers are returned."""
        if self.client.is_closed:
            raise closed("InferenceRESTClient")
        attempt = 0
        while True:
            try:
                response = await self._send_once(method, url, content, headers, timeout)
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                if attempt >= self.config.retries:
                    raise _transport_error(error, method, url) from error
            else:
                retry = retry_unavailable and response.status_code == _RETRIED_STATUS
                if not retry or attempt >= self.config.retries:
                    return response
            if self.config.verbose:
                log.info("retrying %s %s in %.2fs", method, url, backoff(attempt))
            await asyncio.sleep(backoff(attempt))
            attempt += 1

    async def _send_once(
        self,
        method: str,
        url: str,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        timeout: Timeout,
    ) -> httpx.Response:
        if self.config.verbose:
            log.info("%s %s (%d bytes)", method, url, len(content or b""))
        try:
            response = await self.client.request(
                method, url, content=content, headers=headers, timeout=_httpx_timeout(timeout)
            )
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise
        except httpx.DecodingError as error:
            raise InvalidResponse(
                f"{method} {url}: the answer's body cannot be decoded: {error}"
            ) from error
        except httpx.HTTPError as error:
            raise _transport_error(error, method, url) from error
        if self.config.verbose:
            log.info(
                "%s %s -> %d (%s, %d bytes)",
                method,
                url,
                response.status_code,
                response.http_version,
                len(response.content),
            )
        return response

    async def close(self) -> None:
        await self.client.aclose()


def _transport_error(error: httpx.HTTPError, method: str, url: str) -> OIPError:
    if isinstance(error, httpx.TimeoutException):
        return DeadlineExceeded(f"{method} {url} timed out ({type(error).__name__})")
    return ServerUnreachable(f"{method} {url} failed: {type(error).__name__}: {error}")


def check(response: httpx.Response, scope: Scope) -> httpx.Response:
    """The response if it is a success, else the client exception for its status."""
    if response.is_success:
        return response
    raise error_for_http(response.status_code, error_message(response), scope)


def error_message(response: httpx.Response) -> str:
    """The server's own message: the `error` of a JSON body, else the body or the reason."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    text = response.text.strip()
    return text or f"{response.status_code} {response.reason_phrase}"


def json_body(response: httpx.Response) -> Any:
    """The JSON of a response body (None when the body is empty)."""
    if not response.content.strip():
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise InvalidResponse(
            f"{response.request.url} answered with a body that is not JSON"
        ) from None


def parse(model: type[Model], response: httpx.Response, what: str) -> Model:
    """The JSON body of a success as `model`, or InvalidResponse saying what was wrong."""
    body = json_body(response)
    try:
        return model.model_validate(body)
    except pydantic.ValidationError as error:
        raise InvalidResponse(
            f"{response.request.url} answered with {what} that is not OIP: {problems(error)}"
        ) from None


def problems(error: pydantic.ValidationError) -> str:
    """A pydantic error in one line: `where: what (got value)`, for the first few problems."""
    found = [
        f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']} (got {e['input']!r:.40})"
        for e in error.errors()[:3]
    ]
    return "; ".join(found)
