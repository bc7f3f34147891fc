"""NVIDIA's tritonclient.http:
`python -m tests.interop.clients.triton_http HOST:PORT binary|json`."""

from __future__ import annotations

from typing import Any

import tritonclient.http as triton
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
    binary: bool,
    model: str = MODEL,
    datatype: str = "FP32",
    version: str = "",
) -> Any:
    data = rows(datatype)
    tensor = triton.InferInput(INPUT, list(data.shape), datatype)
    tensor.set_data_from_numpy(data, binary_data=binary)
    wanted = triton.InferRequestedOutput(OUTPUT, binary_data=binary)
    return client.infer(
        model, [tensor], model_version=version, outputs=[wanted], request_id=REQUEST_ID
    )


def error_of(client: triton.InferenceServerClient, binary: bool, **request: str) -> Any:
    try:
        infer(client, binary, **request)
    except InferenceServerException as error:
        return failure(int(error.status()), error.message())
    return None


def main() -> None:
    options = arguments(["binary", "json"])
    binary = options.mode == "binary"
    client = triton.InferenceServerClient(options.target)
    result = infer(client, binary)
    response = result.get_response()
    report(
        live=client.is_server_live(),
        ready=client.is_server_ready(),
        model_ready=client.is_model_ready(MODEL),
        unknown_model_ready=client.is_model_ready(UNKNOWN_MODEL),
        server_metadata=client.get_server_metadata(),
        model_metadata=client.get_model_metadata(MODEL),
        probabilities=result.as_numpy(OUTPUT),
        datatype=response["outputs"][0]["datatype"],
        binary_output="binary_data_size" in response["outputs"][0].get("parameters", {}),
        id=response.get("id"),
        unknown_model=error_of(client, binary, model=UNKNOWN_MODEL),
        unknown_version=error_of(client, binary, version="999"),
        bad_request=error_of(client, binary, datatype=WRONG_DATATYPE),
        ready_after=client.is_server_ready(),
    )
    client.close()


if __name__ == "__main__":
    main()
