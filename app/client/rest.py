"""The async REST client: Open Inference Protocol v2 (binary tensor extension included) or
KServe v1, over httpx. Bound to a server (`InferenceRESTClient(url, config)`) or, as KServe's
own client is, given the server's base URL in each call (`InferenceRESTClient(config)`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload
from urllib.parse import quote

import httpx
import orjson

from app.client import v1, v2
from app.client.arguments import check_optional, check_seconds, http_headers
from app.client.config import RESTConfig
from app.client.defaults import USE_CLIENT_DEFAULT
from app.client.errors import Scope
from app.client.http import HTTPSender, Timeout, check, json_body, parse
from app.client.interface import InferenceClient
from app.client.targets import (
    URL,
    Payload,
    Target,
    base_url,
    health_flag,
    infer_target,
    model_target,
)
from app.client.tensors import InferRequest, InferResponse
from app.client.wire import binary_inputs
from app.protocol.errors import (
    InvalidInput,
    InvalidResponse,
    NotFound,
    PredictorError,
    Unsupported,
)
from app.protocol.types import InspectedRequest, ModelMetadataResponse, ServerMetadataResponse

Headers = Mapping[str, str] | None


def check_call(call: str, headers: object, timeout: object) -> None:
    """TypeError for headers that are not a mapping or a timeout httpx would not take;
    InvalidInput for a header HTTP cannot carry (see http_headers)."""
    check_optional(call, "headers", headers, Mapping)
    check_seconds(call, timeout, also=(tuple, httpx.Timeout))
    http_headers(call, headers)


class InferenceRESTClient(InferenceClient):
    """Calls an OIP (v2) or KServe v1 server over HTTP. Use it as an async context manager,
    or call `close()`."""

    def __init__(self, url: URL | RESTConfig | None = None, config: RESTConfig | None = None):
        if isinstance(url, RESTConfig):
            url, config = None, url
        self._config = config or RESTConfig()
        self._host = None if url is None else base_url(url)
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

    def _base(self, url: URL | None) -> str:
        if url is not None:
            return base_url(url)
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
        *,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        base_url: None = None,
    ) -> InferResponse: ...

    @overload
    async def infer(
        self,
        request: URL | Payload | None = None,
        data: Payload | None = None,
        model_name: str | None = None,
        headers: Headers = None,
        response_headers: dict[str, str] | None = None,
        *,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        base_url: URL | None = None,
    ) -> Any: ...

    async def infer(
        self,
        request: URL | Payload | None = None,
        data: Payload | None = None,
        model_name: str | None = None,
        headers: Headers = None,
        response_headers: dict[str, str] | None = None,
        *,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        base_url: URL | None = None,
    ) -> Any:
        """Run a model: `infer(request)` on a bound client, or KServe's
        `infer(base_url, data, model_name)` with an InferRequest or a JSON dict as data.
        Returns an InferResponse (the answer's dict for a dict sent over v1);
        `response_headers`, when given, receives the answer's headers. The positions are
        KServe's up to response_headers; timeout and base_url go by keyword."""
        check_call("infer", headers, timeout)
        check_optional("infer", "model_name", model_name, str)
        check_optional("infer", "response_headers", response_headers, dict)
        target = infer_target(request, data, model_name, base_url)
        base = self._base(target.base)
        if self._config.protocol == "v1":
            answer = await self._post_v1(base, target, "predict", headers, timeout)
            body = json_body(answer)
        else:
            answer = await self._post_v2(base, target, headers, timeout)
        if response_headers is not None:
            response_headers.update(answer.headers)
        if self._config.protocol == "v2":
            return v2.response(answer)
        if isinstance(target.payload, dict):
            return body
        return v1.response_from_body(body, target.model_name, target.payload.id)

    async def _post_v2(
        self, base: str, target: Target, headers: Headers, timeout: Timeout
    ) -> httpx.Response:
        payload = target.payload
        binary = isinstance(payload, InferRequest) and bool(binary_inputs(payload))
        allowed = binary and await self._speaks_binary(base, timeout)
        body, sent = v2.request_body(payload, allowed)
        url = base + v2.model_path(target.model_name, target.model_version) + "/infer"
        answer = await self._http.send(
            "POST", url, content=body, headers={**sent, **(headers or {})}, timeout=timeout
        )
        return check(answer, Scope.MODEL)

    async def _post_v1(
        self, base: str, target: Target, verb: str, headers: Headers, timeout: Timeout
    ) -> httpx.Response:
        payload = target.payload
        message = v1.request_body(payload) if isinstance(payload, InferRequest) else payload
        url = f"{base}/v1/models/{quote(target.model_name, safe='')}:{verb}"
        answer = await self._http.send(
            "POST",
            url,
            content=orjson.dumps(message),
            headers={**v2.JSON, **(headers or {})},
            timeout=timeout,
        )
        return check(answer, Scope.MODEL)

    async def _speaks_binary(self, base: str, timeout: Timeout) -> bool:
        """Whether the server advertises binary tensor data; a server whose metadata cannot
        be read (no `GET /v2`, an answer that is not OIP) does not. Failures that would fail
        the inference too (unreachable, not ready, deadline) are raised and not remembered."""
        if base not in self._binary:
            try:
                metadata = await self.server_metadata(base, timeout=timeout)
            except (NotFound, InvalidInput, InvalidResponse, Unsupported, PredictorError):
                self._binary[base] = False
            else:
                self._binary[base] = v2.BINARY_EXTENSION in metadata.extensions
        return self._binary[base]

    async def explain(
        self,
        request: URL | InferRequest | None = None,
        model_name: str | None = None,
        data: Payload | None = None,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        *,
        base_url: URL | None = None,
    ) -> dict[str, Any]:
        """Explain a prediction (KServe v1 `:explain`): `explain(request)` on a bound client,
        or KServe's `explain(base_url, model_name, data)`. Returns the explainer's JSON."""
        check_call("explain", headers, timeout)
        if self._config.protocol != "v1":
            raise Unsupported("explain is part of the v1 protocol: use RESTConfig(protocol='v1')")
        target = infer_target(request, data, model_name, base_url)
        answer = await self._post_v1(self._base(target.base), target, "explain", headers, timeout)
        body = json_body(answer)
        return body if isinstance(body, dict) else {"explanations": body}

    async def is_server_live(
        self,
        base_url: URL | None = None,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> bool:
        """Whether the server is live (v1: its root answers `{"status": "alive"}`)."""
        check_call("is_server_live", headers, timeout)
        path = "/" if self._config.protocol == "v1" else "/v2/health/live"
        body = await self._health(self._base(base_url) + path, Scope.SERVER, headers, timeout)
        if self._config.protocol == "v1":
            return isinstance(body, dict) and str(body.get("status", "")).lower() == "alive"
        return health_flag(body, "live")

    async def is_server_ready(
        self,
        base_url: URL | None = None,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> bool:
        """Whether the server is ready to serve every model (v2 only)."""
        check_call("is_server_ready", headers, timeout)
        self._v2_only("server readiness")
        url = self._base(base_url) + "/v2/health/ready"
        return health_flag(await self._health(url, Scope.SERVER, headers, timeout), "ready")

    async def is_model_ready(
        self,
        name: str,
        version: str | None = None,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> bool:
        """Whether a model (version) is ready; also KServe's `is_model_ready(base_url, name)`.
        Over v2, as KServe's client, False for any answer but a success (a model the server
        does not know included); over v1 that raises ModelNotFound."""
        check_call("is_model_ready", headers, timeout)
        url, name, version = model_target("is_model_ready", name, version)
        if self._config.protocol == "v1":
            path = f"/v1/models/{quote(name, safe='')}"
        else:
            path = v2.model_path(name, version) + "/ready"
        refused = self._config.protocol == "v2"
        url = self._base(url) + path
        body = await self._health(url, Scope.MODEL, headers, timeout, any_refusal=refused)
        return health_flag(body, "ready")

    async def _health(
        self, url: str, scope: Scope, headers: Headers, timeout: Timeout, any_refusal: bool = False
    ) -> Any:
        """The JSON of a health answer (None for an empty body); False for a 503, or with
        `any_refusal` for any answer but a success."""
        answer = await self._http.send(
            "GET", url, headers=headers, timeout=timeout, retry_unavailable=False
        )
        if answer.status_code == httpx.codes.SERVICE_UNAVAILABLE or (
            any_refusal and not answer.is_success
        ):
            return False
        return json_body(check(answer, scope))

    async def server_metadata(
        self,
        base_url: URL | None = None,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> ServerMetadataResponse:
        """The server's name, version and protocol extensions (v2 only)."""
        check_call("server_metadata", headers, timeout)
        self._v2_only("server metadata")
        url = self._base(base_url) + "/v2"
        answer = await self._http.send("GET", url, headers=headers, timeout=timeout)
        return parse(ServerMetadataResponse, check(answer, Scope.SERVER), "server metadata")

    async def model_metadata(
        self,
        name: str,
        version: str | None = None,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> ModelMetadataResponse:
        """A model's versions, platform and tensor signatures (v2 only); also
        `model_metadata(base_url, name)`."""
        check_call("model_metadata", headers, timeout)
        self._v2_only("model metadata")
        url, name, version = model_target("model_metadata", name, version)
        full = self._base(url) + v2.model_path(name, version)
        answer = await self._http.send("GET", full, headers=headers, timeout=timeout)
        return parse(ModelMetadataResponse, check(answer, Scope.MODEL), "model metadata")

    async def pipeline_request(
        self,
        pipeline: str,
        request_id: str,
        headers: Headers = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        *,
        base_url: URL | None = None,
    ) -> InspectedRequest:
        """What each step of `pipeline` was sent and answered in request `request_id`, from a
        server that keeps them (`--inspect-requests N`); NotFound if it kept none."""
        check_call("pipeline_request", headers, timeout)
        self._v2_only("pipeline inspection")
        path = f"/v2/pipelines/{quote(pipeline, safe='')}/requests/{quote(request_id, safe='')}"
        answer = await self._http.send(
            "GET", self._base(base_url) + path, headers=headers, timeout=timeout
        )
        return parse(InspectedRequest, check(answer, Scope.MODEL), "pipeline inspection")

    async def close(self) -> None:
        await self._http.close()
