"""The REST client's two call forms, KServe's both: bound (`InferenceRESTClient(url)`, then
`infer(request)`, `is_model_ready(name)`) and unbound (`InferenceRESTClient(config)`, then
`infer(base_url, data, model_name)`, `is_model_ready(base_url, name)`). These helpers find
the server, the payload and the model of a call whichever form it used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from app.client.arguments import check_optional
from app.client.tensors import InferRequest

URL = str | httpx.URL
Payload = InferRequest | dict[str, Any]


def is_url(value: object) -> bool:
    return isinstance(value, httpx.URL) or (isinstance(value, str) and "://" in value)


def base_url(url: URL) -> str:
    """An http(s) server URL without a trailing slash; ValueError for anything else."""
    try:
        parsed = httpx.URL(str(url))
    except httpx.InvalidURL as error:
        raise ValueError(f"{str(url)!r} is not a URL: {error}") from None
    port = parsed.port
    if parsed.scheme not in ("http", "https") or not parsed.host or not 0 < (port or 1) < 65536:
        raise ValueError(f"a REST server URL looks like http(s)://host:port, got {str(url)!r}")
    return str(parsed).rstrip("/")


@dataclass
class Target:
    """Where a call goes: the server's base URL (None: the client's own), the payload and
    the model."""

    base: URL | None
    payload: Payload
    model_name: str
    model_version: str | None = None


def infer_target(
    request: Payload | URL | None, data: Payload | None, model_name: str | None, url: URL | None
) -> Target:
    """`infer(request)`, `infer(base_url, data, model_name)` or the same with keywords."""
    if isinstance(request, InferRequest | dict) and data is not None:
        raise TypeError(
            "infer(): data was given besides the request in the first argument; the second "
            f"position is KServe's data, so pass headers by keyword (headers=...), got {data!r:.60}"
        )
    if url is None and not isinstance(request, InferRequest | dict):
        url, request = request, None
    payload = data if data is not None else request
    if payload is None or is_url(payload):
        raise ValueError("infer needs a request (an InferRequest or a JSON dict)")
    assert isinstance(payload, InferRequest | dict)
    if isinstance(payload, InferRequest):
        return Target(url, payload, model_name or payload.model_name, payload.model_version)
    if model_name is None:
        raise ValueError("infer needs model_name when the data is a dict")
    return Target(url, payload, model_name)


def model_target(call: str, name: str, version: str | None) -> tuple[URL | None, str, str | None]:
    """`(name, version)`, or KServe's `(base_url, name)`: (base URL, name, version);
    TypeError for a name or version that is not a string."""
    check_optional(call, "name", name, (str, httpx.URL))
    check_optional(call, "version", version, str)
    if not is_url(name):
        return None, name, version
    if version is None:
        raise ValueError("a call given a base URL also needs the model name")
    return name, version, None


def health_flag(body: Any, key: str) -> bool:
    """A health answer's verdict: False for a 503 (`body` False), the JSON body's `key` when
    it has one, else True (a 200 with an empty body)."""
    if body is False:
        return False
    if isinstance(body, dict) and key in body:
        return bool(body[key])
    return True
