"""`InferenceClient`: what code that calls models needs of a client (a predictor calling
another model, later a pipeline's steps and an explainer's target), whether the model is in
this process (`InProcessClient`) or behind a server (`InferenceRESTClient`,
`InferenceGRPCClient`). The request and response objects are the clients' own
(`InferRequest`, `InferResponse`), over the protocol core's types."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping

from app.client.defaults import USE_CLIENT_DEFAULT, ClosingClient, UseClientDefault
from app.client.tensors import InferRequest, InferResponse
from app.protocol.types import ModelMetadataResponse

Timeout = float | None | UseClientDefault
"""Seconds for the call (None: no limit; by default the client's)."""


class InferenceClient(ClosingClient):
    """Infer, model metadata and model readiness, the same way in process, over REST and
    over gRPC; errors are the protocol core's exceptions."""

    @abstractmethod
    async def infer(
        self,
        infer_request: InferRequest,
        /,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> InferResponse:
        """Run the request's model on its inputs."""

    @abstractmethod
    async def model_metadata(
        self,
        model_name: str,
        /,
        *,
        version: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> ModelMetadataResponse:
        """A model's versions, platform and tensor signatures."""

    @abstractmethod
    async def is_model_ready(
        self,
        model_name: str,
        /,
        *,
        version: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
    ) -> bool:
        """Whether a model (version) is ready."""
