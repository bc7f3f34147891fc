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
    `host:port` the gRPC client."""

    @staticmethod
    def get_inference_client(
        url: str, config: RESTConfig | None = None, **grpc_options: Any
    ) -> InferenceRESTClient | InferenceGRPCClient:
        """A client for `url`. `config` applies to REST; for gRPC its timeout (a number or
        None), retries and verbose carry over, and `grpc_options` (InferenceGRPCClient's
        keyword arguments) apply."""
        if url.startswith(_REST_SCHEMES):
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
    options: dict[str, Any] = {"retries": config.retries, "verbose": config.verbose}
    if config.timeout is None or isinstance(config.timeout, int | float):
        options["timeout"] = config.timeout
    return options
