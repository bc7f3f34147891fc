"""The async REST client: Open Inference Protocol v2 (binary tensor extension included) or
KServe v1, over httpx.

Two call forms, both KServe's: a client bound to a server (`InferenceRESTClient(url, config)`,
then `infer(request)`), or an unbound one (`InferenceRESTClient(config)`) that is given the
server's base URL first in each call (`infer(base_url, data, model_name)`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, overload
from urllib.parse import quote

import httpx
import orjson

from app.client import v1
from app.client.config import RESTConfig
from app.client.defaults import USE_CLIENT_DEFAULT
from app.client.errors import Scope
from app.client.http import HTTPSender, Timeout, check, json_body
from app.client.tensors import (
    InferRequest,
    InferResponse,
    binary_inputs,
    from_protocol,
    to_protocol,
)
from app.protocol.codecs.messages import (
    HEADER_LENGTH,
    parse_header_length,
    request_to_body,
    response_from_body,
)
from app.protocol.errors import Unsupported
from app.protocol.types import ModelMetadataResponse, ServerMetadataResponse

BINARY_EXTENSION = "binary_tensor_data"
"""The server metadata extension that says a server reads and writes binary tensor data."""
_JSON = {"content-type": "application/json"}
URL = str | httpx.URL
Headers = Mapping[str, str] | None


def _is_url(value: object) -> bool:
    return isinstance(value, httpx.URL) or (isinstance(value, str) and "://" in value)


def _base_url(url: URL) -> str:
    parsed = httpx.URL(str(url))
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"a REST server URL looks like http(s)://host:port, got {str(url)!r}")
    return str(parsed).rstrip("/")


def _model_path(name: str, version: str | None) -> str:
    path = f"/v2/models/{quote(name, safe='')}"
    return path + (f"/versions/{quote(version, safe='')}" if version else "")


class InferenceRESTClient:
    """Calls an OIP (v2) or KServe v1 server over HTTP. Use it as an async context manager,
    or call `close()`."""

    def __init__(self, url: URL | RESTConfig | None = None, config: RESTConfig | None = None):
        if isinstance(url, RESTConfig):
            url, config = None, url
        self._config = config or RESTConfig()
        self._host = None if url is None else _base_url(url)
        self._http = HTTPSender(self._config)
        self._binary: dict[str, bool] = {}

    @property
    def host(self) -> str | None:
        """The server's base URL (None for a client that is given it in each call)."""
        return self._host

    @property
    def config(self) -> RESTConfig:
        return self._config

    @property
    def protocol_version(self) -> str:
        return self._config.protocol

    def _base(self, base_url: URL | None) -> str:
        if base_url is not None:
            return _base_url(base_url)
        if self._host is None:
            raise ValueError("this client has no server URL: pass the base URL to the call")
        return self._host

    def _v2_only(self, what: str) -> None:
        if self._config.protocol != "v2":
            raise Unsupported(f"{what} is not part of the {self._config.protocol} protocol")

    @overload
    async def infer(
        self,
        request: InferRequest,
        data: None = None,
        model_name: str | None = None,
        headers: Headers = None,
        response_headers: dict[str, str] | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> InferResponse: ...

    @overload
    async def infer(
        self,
        request: URL,
        data: InferRequest | dict[str, Any],
        model_name: str | None = None,
        headers: Headers = None,
        response_headers: dict[str, str] | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> Any: ...

    async def infer(
        self,
        request: InferRequest | URL,
        data: InferRequest | dict[str, Any] | None = None,
        model_name: str | None = None,
        headers: Headers = None,
        response_headers: dict[str, str] | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> Any:
        """Run a model. `infer(request)` on a bound client, or KServe's
        `infer(base_url, data, model_name)` where data is an InferRequest or a JSON dict.
        Returns an InferResponse (a dict for a dict sent over v1); `response_headers`, when
        given, receives the answer's headers."""
        payload: InferRequest | dict[str, Any] | None
        if isinstance(request, InferRequest):
            base, payload = self._base(None), request
        else:
            base, payload = self._base(request), data
        if payload is None:
            raise ValueError("infer needs a request (an InferRequest or a JSON dict)")
        name = model_name or (payload.model_name if isinstance(payload, InferRequest) else None)
        if name is None:
            raise ValueError("infer needs model_name when the data is a dict")
        if self._config.protocol == "v1":
            response = await self._post_v1(base, name, "predict", payload, headers, timeout)
        else:
            response = await self._post_v2(base, name, payload, headers, timeout)
        if response_headers is not None:
            response_headers.update(response.headers)
        return self._decode(response, name, payload)

    def _decode(
        self, response: httpx.Response, name: str, payload: InferRequest | dict[str, Any]
    ) -> Any:
        if self._config.protocol == "v1":
            body = json_body(response)
            if isinstance(payload, dict):
                return body
            return v1.response_from_body(body, name, payload.id)
        length = parse_header_length(response.headers.get(HEADER_LENGTH))
        return from_protocol(response_from_body(response.content, length))

    async def _post_v2(
        self,
        base: str,
        name: str,
        payload: InferRequest | dict[str, Any],
        headers: Headers,
        timeout: Timeout,
    ) -> httpx.Response:
        version = payload.model_version if isinstance(payload, InferRequest) else None
        sent = dict(_JSON)
        if isinstance(payload, InferRequest):
            binary = binary_inputs(payload)
            if binary and not await self._speaks_binary(base, timeout):
                binary = set()
            body, length = request_to_body(
                to_protocol(payload, binary_outputs=bool(binary)), binary
            )
            if length is not None:
                sent = {"content-type": "application/octet-stream", HEADER_LENGTH: str(length)}
        else:
            body = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)
        url = f"{base}{_model_path(name, version)}/infer"
        response = await self._http.send(
            "POST", url, content=body, headers={**sent, **(headers or {})}, timeout=timeout
        )
        return check(response, Scope.MODEL)

    async def _post_v1(
        self,
        base: str,
        name: str,
        verb: str,
        payload: InferRequest | dict[str, Any],
        headers: Headers,
        timeout: Timeout,
    ) -> httpx.Response:
        message = v1.request_body(payload) if isinstance(payload, InferRequest) else payload
        url = f"{base}/v1/models/{quote(name, safe='')}:{verb}"
        response = await self._http.send(
            "POST",
            url,
            content=orjson.dumps(message),
            headers={**_JSON, **(headers or {})},
            timeout=timeout,
        )
        return check(response, Scope.MODEL)

    async def _speaks_binary(self, base: str, timeout: Timeout) -> bool:
        if base not in self._binary:
            metadata = await self.server_metadata(base, timeout=timeout)
            self._binary[base] = BINARY_EXTENSION in metadata.extensions
        return self._binary[base]

    async def explain(
        self,
        request: InferRequest | URL,
        model_name: str | None = None,
        data: InferRequest | dict[str, Any] | None = None,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> dict[str, Any]:
        """Explain a prediction (KServe v1 `:explain`): `explain(request)` on a bound client,
        or KServe's `explain(base_url, model_name, data)`. Returns the explainer's JSON."""
        if self._config.protocol != "v1":
            raise Unsupported("explain is part of the v1 protocol: use RESTConfig(protocol='v1')")
        payload: InferRequest | dict[str, Any]
        if isinstance(request, InferRequest):
            base, payload, name = self._base(None), request, request.model_name
        elif data is None or model_name is None:
            raise ValueError("explain(base_url, model_name, data) needs model_name and data")
        else:
            base, payload, name = self._base(request), data, model_name
        response = await self._post_v1(base, name, "explain", payload, headers, timeout)
        body = json_body(response)
        return body if isinstance(body, dict) else {"explanations": body}

    async def is_server_live(
        self,
        base_url: URL | None = None,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> bool:
        """Whether the server is live (v1: its root answers `{"status": "alive"}`)."""
        path = "/" if self._config.protocol == "v1" else "/v2/health/live"
        body = await self._health(self._base(base_url) + path, Scope.SERVER, headers, timeout)
        if self._config.protocol == "v1":
            return isinstance(body, dict) and str(body.get("status", "")).lower() == "alive"
        return _flag(body, "live")

    async def is_server_ready(
        self,
        base_url: URL | None = None,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> bool:
        """Whether the server is ready to serve every model (v2 only)."""
        self._v2_only("server readiness")
        url = self._base(base_url) + "/v2/health/ready"
        return _flag(await self._health(url, Scope.SERVER, headers, timeout), "ready")

    async def is_model_ready(
        self,
        name: str,
        version: str | None = None,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> bool:
        """Whether a model (version) is ready; also KServe's `is_model_ready(base_url, name)`.
        A model the server does not know raises ModelNotFound."""
        base, name, version = self._model_target(name, version)
        if self._config.protocol == "v1":
            url = f"{base}/v1/models/{quote(name, safe='')}"
        else:
            url = f"{base}{_model_path(name, version)}/ready"
        return _flag(await self._health(url, Scope.MODEL, headers, timeout), "ready")

    def _model_target(self, name: str, version: str | None) -> tuple[str, str, str | None]:
        if not _is_url(name):
            return self._base(None), name, version
        if version is None:
            raise ValueError("a call given a base URL also needs the model name")
        return self._base(name), version, None

    async def _health(self, url: str, scope: Scope, headers: Headers, timeout: Timeout) -> Any:
        """The JSON of a health answer (None for an empty body); False for a 503."""
        response = await self._http.send(
            "GET", url, headers=headers, timeout=timeout, retry_unavailable=False
        )
        if response.status_code == httpx.codes.SERVICE_UNAVAILABLE:
            return False
        return json_body(check(response, scope))

    async def server_metadata(
        self,
        base_url: URL | None = None,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> ServerMetadataResponse:
        """The server's name, version and protocol extensions (v2 only)."""
        self._v2_only("server metadata")
        response = await self._http.send(
            "GET", self._base(base_url) + "/v2", headers=headers, timeout=timeout
        )
        return ServerMetadataResponse.model_validate(json_body(check(response, Scope.SERVER)))

    async def model_metadata(
        self,
        name: str,
        version: str | None = None,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> ModelMetadataResponse:
        """A model's versions, platform and tensor signatures (v2 only)."""
        self._v2_only("model metadata")
        base, name, version = self._model_target(name, version)
        url = base + _model_path(name, version)
        response = await self._http.send("GET", url, headers=headers, timeout=timeout)
        return ModelMetadataResponse.model_validate(json_body(check(response, Scope.MODEL)))

    async def close(self) -> None:
        await self._http.close()

    async def __aenter__(self) -> InferenceRESTClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def _flag(body: Any, key: str) -> bool:
    """A health answer's verdict: False for a 503, the body's `key` when it has one, else
    True (a 200 with an empty body)."""
    if body is False:
        return False
    if isinstance(body, dict) and key in body:
        return bool(body[key])
    return True
