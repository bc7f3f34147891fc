"""KServe's InferenceGRPCClient: `python -m tests.interop.clients.kserve_grpc HOST:PORT
raw|contents` (raw_input_contents, or typed contents). This client has no metadata calls."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from kserve import InferenceGRPCClient, InferInput, InferRequest

from tests.interop.clients import common


def request(raw: bool, model: str = common.MODEL, datatype: str = "FP32") -> InferRequest:
    data = common.rows(datatype)
    if raw:
        tensor = InferInput(common.INPUT, list(data.shape), datatype)
        tensor.set_data_from_numpy(data, binary_data=True)
    else:
        tensor = InferInput(common.INPUT, list(data.shape), datatype, data=data.ravel().tolist())
    return InferRequest(model, [tensor], request_id=common.REQUEST_ID)


async def error_of(client: InferenceGRPCClient, inference: InferRequest) -> Any:
    try:
        await client.infer(inference)
    except grpc.aio.AioRpcError as error:
        return common.failure(error.code().name, error.details() or "")
    return None


async def model_ready_error(client: InferenceGRPCClient) -> Any:
    try:
        return await client.is_model_ready(common.UNKNOWN_MODEL)
    except grpc.aio.AioRpcError as error:
        return common.failure(error.code().name, error.details() or "")


async def run(target: str, raw: bool) -> None:
    async with InferenceGRPCClient(target, retries=0) as client:
        response = await client.infer(request(raw))
        common.report(
            live=await client.is_server_live(),
            ready=await client.is_server_ready(),
            model_ready=await client.is_model_ready(common.MODEL),
            unknown_model_ready=await model_ready_error(client),
            probabilities=response.outputs[0].as_numpy(),
            datatype=response.outputs[0].datatype,
            # kserve keeps raw_output_contents on each output, privately
            binary_output=response.outputs[0]._raw_data is not None,
            id=response.id,
            unknown_model=await error_of(client, request(raw, model=common.UNKNOWN_MODEL)),
            bad_request=await error_of(client, request(raw, datatype=common.WRONG_DATATYPE)),
            ready_after=await client.is_server_ready(),
        )


def main() -> None:
    options = common.arguments(["raw", "contents"])
    asyncio.run(run(options.target, options.mode == "raw"))


if __name__ == "__main__":
    main()
