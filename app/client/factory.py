"""`InferenceClientFactory`: the right client for a URL. Each call builds a new client (no
process-wide cache): the caller owns it and closes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.client.grpc import InferenceGRPCClient

if TYPE_CHECKING:  # the REST client needs httpx; the gRPC client does not
    from app.client.config import RESTConfig
    from app.client.rest import InferenceRESTClient

_REST_SCHEMES = ("http://", "https://")


class InferenceClientFactory:
    """`http://` and `https://` give the REST client; `grpc://`, `grpcs://` or a bare
    `host:port` the gRPC client (schemes in any case)."""

    @staticmethod
    def get_inference_client(
        url: str, config: RESTConfig | None = None, **grpc_options: Any
    ) -> InferenceRESTClient | InferenceGRPCClient:
        """A client for `url`. `config` applies to REST; for gRPC its retries, verbose and
        timeout carry over (an `httpx.Timeout` or a tuple as its largest part, None if any
        part is None), and `grpc_options` (InferenceGRPCClient's keyword arguments) apply."""
        if not isinstance(url, str):
            raise TypeError(f"get_inference_client(): url must be text, got {url!r}")
        if url.lower().startswith(_REST_SCHEMES):
            return InferenceClientFactory.get_rest_client(url, config)
        if config is not None:
            grpc_options = {**_grpc_options(config), **grpc_options}
        return InferenceGRPCClient(url, **grpc_options)

    @staticmethod
    def get_rest_client(
        url: str | None = None, config: RESTConfig | None = None
    ) -> InferenceRESTClient:
        from app.client.rest import InferenceRESTClient

        return InferenceRESTClient(url, config)

    @staticmethod
    def get_grpc_client(url: str, **options: Any) -> InferenceGRPCClient:
        return InferenceGRPCClient(url, **options)


def _grpc_options(config: RESTConfig) -> dict[str, Any]:
    return {
        "retries": config.retries,
        "verbose": config.verbose,
        "timeout": grpc_seconds(config.timeout),
    }


def grpc_seconds(timeout: object) -> float | None:
    """A REST timeout as one gRPC deadline in seconds: a number as it is; an httpx.Timeout or
    a (connect, read, write, pool) tuple as its largest part, None (no deadline) if any part
    is None, since that phase may then take as long as it likes."""
    if timeout is None or isinstance(timeout, int | float):
        return timeout
    parts = timeout if isinstance(timeout, tuple) else _httpx_parts(timeout)
    if any(part is None for part in parts):
        return None
    return float(max(parts))


def _httpx_parts(timeout: Any) -> tuple[float | None, ...]:
    return (timeout.connect, timeout.read, timeout.write, timeout.pool)
