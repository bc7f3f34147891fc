"""The async gRPC client (grpc.aio), on the same conversion code as the server's servicer.

Requests go out with `raw_input_contents`; responses are read raw or typed. By default the
channel retries calls that fail with UNAVAILABLE (`retries` retries after the first attempt,
exponential backoff; gRPC allows at most 5 attempts in all); a `grpc.service_config` in
`channel_args` replaces that policy and `("grpc.enable_retries", 0)` turns retries off.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import grpc

from app.client.arguments import Metadata, check_seconds, grpc_metadata
from app.client.defaults import USE_CLIENT_DEFAULT, UseClientDefault
from app.client.errors import Scope, ServerUnreachable, closed, error_for_grpc
from app.client.interface import InferenceClient
from app.client.tensors import InferRequest, InferResponse
from app.client.wire import answer_from, from_protocol, to_protocol
from app.grpc.convert import request_to_proto, response_from_proto
from app.grpc.generated import open_inference_pb2 as pb
from app.grpc.metadata_messages import model_metadata_from_proto, server_metadata_from_proto
from app.grpc.service import Stub
from app.protocol.errors import OIPError, Unavailable
from app.protocol.types import ModelMetadataResponse, ServerMetadataResponse

log = logging.getLogger("oipserve.client")

Timeout = float | None | UseClientDefault
_SCHEMES = {"grpc://": False, "grpcs://": True}
_CALLS = {
    "ModelInfer": "infer",
    "ServerLive": "is_server_live",
    "ServerReady": "is_server_ready",
    "ModelReady": "is_model_ready",
    "ServerMetadata": "server_metadata",
    "ModelMetadata": "model_metadata",
}
"""The method each RPC serves, to name it in a TypeError."""
MAX_ATTEMPTS = 5
"""gRPC's own limit on a retry policy's maxAttempts (larger values are cut to 5)."""


def retry_service_config(retries: int) -> str:
    """The default retry policy: UNAVAILABLE calls, `retries` retries after the first
    attempt (at most MAX_ATTEMPTS attempts in all), 0.1 s doubling to 1 s."""
    policy = {
        "maxAttempts": min(retries + 1, MAX_ATTEMPTS),
        "initialBackoff": "0.1s",
        "maxBackoff": "1s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE"],
    }
    return json.dumps({"methodConfig": [{"name": [{}], "retryPolicy": policy}]})


def channel_options(
    channel_args: Sequence[tuple[str, Any]] | None, retries: int
) -> list[tuple[str, Any]]:
    """The channel options: unlimited message sizes and, for `retries` of 1 or more, the
    default retry policy (with reconnects as quick as the retries), unless `channel_args`
    says otherwise."""
    options = list(channel_args or [])
    keys = {key for key, _ in options}
    defaults: list[tuple[str, Any]] = [
        ("grpc.max_send_message_length", -1),
        ("grpc.max_receive_message_length", -1),
    ]
    if retries > 0 and ("grpc.enable_retries", 0) not in options:
        defaults += [
            ("grpc.enable_retries", 1),
            ("grpc.service_config", retry_service_config(retries)),
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
        ]
    return options + [(key, value) for key, value in defaults if key not in keys]


def _read(path: str | None) -> bytes | None:
    return None if path is None else Path(path).read_bytes()


def _target(url: str, use_ssl: bool) -> tuple[str, bool]:
    """host:port and whether to use TLS, from `host:port`, `host` or a grpc(s):// URL."""
    for scheme, secure in _SCHEMES.items():
        if url[: len(scheme)].lower() == scheme:
            url, use_ssl = url[len(scheme) :].rstrip("/"), use_ssl or secure
    if "://" in url or "/" in url:
        raise ValueError(
            f"a gRPC server URL looks like host:port or grpc(s)://host:port, got {url!r}"
        )
    host = url.rsplit(":", 1)[0] if not url.endswith("]") else url
    if host == url:
        url = f"{url}:{443 if use_ssl else 80}"
    return url, use_ssl


class InferenceGRPCClient(InferenceClient):
    """Calls an OIP server over gRPC. Every call takes `timeout` (seconds; None for none;
    the client's by default) and `headers` (gRPC metadata, added to `metadata`)."""

    def __init__(
        self,
        url: str,
        verbose: bool = False,
        use_ssl: bool = False,
        root_certificates: str | None = None,
        private_key: str | None = None,
        certificate_chain: str | None = None,
        creds: grpc.ChannelCredentials | None = None,
        channel_args: Sequence[tuple[str, Any]] | None = None,
        timeout: float | None = 60,
        retries: int = 3,
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        check_seconds("InferenceGRPCClient", timeout)
        self._host, use_ssl = _target(url, use_ssl)
        options = channel_options(channel_args, retries)
        if creds is None and use_ssl:
            creds = grpc.ssl_channel_credentials(
                _read(root_certificates), _read(private_key), _read(certificate_chain)
            )
        if creds is not None:
            self._channel = grpc.aio.secure_channel(self._host, creds, options=options)
        else:
            self._channel = grpc.aio.insecure_channel(self._host, options=options)
        self._stub = Stub(self._channel)
        self._verbose = verbose
        self._timeout = timeout
        self._closed = False
        self.metadata: list[tuple[str, str | bytes]] = []
        """Metadata sent with every call (e.g. an authorization token)."""

    @property
    def host(self) -> str:
        return self._host

    @property
    def channel(self) -> grpc.aio.Channel:
        return self._channel

    async def _call(
        self,
        rpc: str,
        message: Any,
        scope: Scope,
        timeout: Timeout,
        headers: Metadata | None,
    ) -> Any:
        name = _CALLS.get(rpc, rpc)
        check_seconds(name, timeout)
        metadata = grpc_metadata(name, self.metadata) + grpc_metadata(name, headers)
        if self._closed:
            raise closed("InferenceGRPCClient")
        seconds = self._timeout if isinstance(timeout, UseClientDefault) else timeout
        if self._verbose:
            log.info("%s %s metadata=%s", self._host, rpc, metadata)
        call: Callable[..., Coroutine[Any, Any, Any]] = getattr(self._stub, rpc)
        try:
            reply = await call(message, timeout=seconds, metadata=metadata or None)
        except grpc.aio.AioRpcError as error:
            raise self._error(error, scope) from error
        except grpc.aio.UsageError as error:  # the channel was closed under the call
            raise closed("InferenceGRPCClient") from error
        if self._verbose:
            log.info("%s %s -> OK", self._host, rpc)
        return reply

    def _error(self, error: grpc.aio.AioRpcError, scope: Scope) -> OIPError:
        code, details = error.code(), error.details() or error.code().name
        if code is grpc.StatusCode.UNAVAILABLE and not self._connected():
            return ServerUnreachable(f"cannot reach {self._host}: {details}")
        if code is grpc.StatusCode.DEADLINE_EXCEEDED and details == "Deadline Exceeded":
            details = f"no answer from {self._host} within the deadline"
        return error_for_grpc(code.name, details, scope)

    def _connected(self) -> bool:
        return self._channel.get_state() is grpc.ChannelConnectivity.READY

    async def infer(
        self,
        infer_request: InferRequest,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        headers: Metadata | None = None,
    ) -> InferResponse:
        """Run a model; the inputs travel as raw little-endian bytes."""
        if not isinstance(infer_request, InferRequest):
            raise TypeError(
                f"infer(): the request must be an InferRequest, got {type(infer_request).__name__}"
            )
        message = request_to_proto(
            infer_request.model_name, infer_request.model_version, to_protocol(infer_request)
        )
        reply = await self._call("ModelInfer", message, Scope.MODEL, timeout, headers)
        with answer_from(self._host):
            return from_protocol(response_from_proto(reply))

    async def _health(
        self, rpc: str, message: Any, scope: Scope, timeout: Timeout, headers: Metadata | None
    ) -> Any:
        """The reply of a health RPC; None when a server that was reached answered
        UNAVAILABLE (not ready), as REST answers 503."""
        try:
            return await self._call(rpc, message, scope, timeout, headers)
        except Unavailable as error:
            if isinstance(error, ServerUnreachable):
                raise
            return None

    async def is_server_live(
        self, timeout: Timeout = USE_CLIENT_DEFAULT, headers: Metadata | None = None
    ) -> bool:
        request = pb.ServerLiveRequest()
        reply = await self._health("ServerLive", request, Scope.SERVER, timeout, headers)
        return reply is not None and bool(reply.live)

    async def is_server_ready(
        self, timeout: Timeout = USE_CLIENT_DEFAULT, headers: Metadata | None = None
    ) -> bool:
        request = pb.ServerReadyRequest()
        reply = await self._health("ServerReady", request, Scope.SERVER, timeout, headers)
        return reply is not None and bool(reply.ready)

    async def is_model_ready(
        self,
        model_name: str,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        headers: Metadata | None = None,
        *,
        version: str | None = None,
    ) -> bool:
        """Whether a model (version) is ready; a model the server does not know raises
        ModelNotFound. KServe's positions (model_name, timeout, headers); version by keyword."""
        request = pb.ModelReadyRequest(name=model_name, version=version or "")
        reply = await self._health("ModelReady", request, Scope.MODEL, timeout, headers)
        return reply is not None and bool(reply.ready)

    async def server_metadata(
        self, timeout: Timeout = USE_CLIENT_DEFAULT, headers: Metadata | None = None
    ) -> ServerMetadataResponse:
        request = pb.ServerMetadataRequest()
        reply = await self._call("ServerMetadata", request, Scope.SERVER, timeout, headers)
        return server_metadata_from_proto(reply)

    async def model_metadata(
        self,
        model_name: str,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        headers: Metadata | None = None,
        *,
        version: str | None = None,
    ) -> ModelMetadataResponse:
        """A model's versions, platform and tensor signatures; version by keyword."""
        request = pb.ModelMetadataRequest(name=model_name, version=version or "")
        reply = await self._call("ModelMetadata", request, Scope.MODEL, timeout, headers)
        with answer_from(self._host):
            return model_metadata_from_proto(reply)

    async def close(self) -> None:
        self._closed = True
        await self._channel.close()
