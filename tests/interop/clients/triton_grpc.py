"""NVIDIA's tritonclient.grpc: `python -m tests.interop.clients.triton_grpc HOST:PORT raw`
(this client always sends raw_input_contents)."""

from __future__ import annotations

from typing import Any

import tritonclient.grpc as triton
from tritonclient.utils import InferenceServerException

from tests.interop.clients.common import (
    INPUT,
    MODEL,
    OUTPUT,
    REQUEST_ID,
    UNKNOWN_MODEL,
    WRONG_DATATYPE,
    arguments,
    failure,
    report,
    rows,
)


def infer(
    client: triton.InferenceServerClient,
    model: str = MODEL,
    datatype: str = "FP32",
    version: str = "",
) -> Any:
    data = rows(datatype)
    tensor = triton.InferInput(INPUT, list(data.shape), datatype)
    tensor.set_data_from_numpy(data)
    wanted = triton.InferRequestedOutput(OUTPUT)
    return client.infer(
        model, [tensor], model_version=version, outputs=[wanted], request_id=REQUEST_ID
    )


def status_name(error: InferenceServerException) -> str:
    """The gRPC code name: tritonclient reports `str(grpc.StatusCode.X)`."""
    return str(error.status()).removeprefix("StatusCode.")


def error_of(client: triton.InferenceServerClient, **request: str) -> Any:
    try:
        infer(client, **request)
    except InferenceServerException as error:
        return failure(status_name(error), error.message())
    return None


def model_ready_error(client: triton.InferenceServerClient) -> Any:
    """ModelReady of an unknown model: tritonclient raises the server's NOT_FOUND."""
    try:
        return client.is_model_ready(UNKNOWN_MODEL)
    except InferenceServerException as error:
        return failure(status_name(error), error.message())


def main() -> None:
    options = arguments(["raw"])
    client = triton.InferenceServerClient(options.target)
    result = infer(client)
    response = result.get_response()
    report(
        live=client.is_server_live(),
        ready=client.is_server_ready(),
        model_ready=client.is_model_ready(MODEL),
        unknown_model_ready=model_ready_error(client),
        server_metadata=client.get_server_metadata(as_json=True),
        model_metadata=client.get_model_metadata(MODEL, as_json=True),
        probabilities=result.as_numpy(OUTPUT),
        datatype=response.outputs[0].datatype,
        binary_output=len(response.raw_output_contents) == 1,
        id=response.id,
        unknown_model=error_of(client, model=UNKNOWN_MODEL),
        unknown_version=error_of(client, version="999"),
        bad_request=error_of(client, datatype=WRONG_DATATYPE),
        ready_after=client.is_server_ready(),
    )
    client.close()


if __name__ == "__main__":
    main()
