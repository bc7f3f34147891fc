"""KServe's InferenceRESTClient (v2): `python -m tests.interop.clients.kserve_rest HOST:PORT
binary|json`. This client has no metadata calls; it checks health and model readiness."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from kserve.protocol.infer_type import RequestedOutput

from tests.interop.clients import common


def request(binary: bool, model: str = common.MODEL, datatype: str = "FP32") -> InferRequest:
    data = common.rows(datatype)
    tensor = InferInput(common.INPUT, list(data.shape), datatype)
    tensor.set_data_from_numpy(data, binary_data=binary)
    return InferRequest(
        model,
        [tensor],
        request_id=common.REQUEST_ID,
        request_outputs=[RequestedOutput(common.OUTPUT, {"binary_data": binary})],
    )


async def error_of(client: InferenceRESTClient, base: str, inference: InferRequest) -> Any:
    try:
        await client.infer(base, inference, model_name=inference.model_name)
    except httpx.HTTPStatusError as error:
        return common.failure(error.response.status_code, str(error))
    return None


async def run(target: str, binary: bool) -> None:
    base = f"http://{target}"
    async with InferenceRESTClient(RESTConfig(protocol="v2", retries=0)) as client:
        headers: dict[str, str] = {}
        response = await client.infer(
            base, request(binary), model_name=common.MODEL, response_headers=headers
        )
        output = response.outputs[0]
        common.report(
            live=await client.is_server_live(base),
            ready=await client.is_server_ready(base),
            model_ready=await client.is_model_ready(base, common.MODEL),
            unknown_model_ready=await client.is_model_ready(base, common.UNKNOWN_MODEL),
            probabilities=output.as_numpy(),
            datatype=output.datatype,
            # the client decodes binary outputs silently; the header shows they were binary
            binary_output="inference-header-content-length" in headers,
            id=response.id,
            unknown_model=await error_of(client, base, request(binary, model=common.UNKNOWN_MODEL)),
            bad_request=await error_of(
                client, base, request(binary, datatype=common.WRONG_DATATYPE)
            ),
            ready_after=await client.is_server_ready(base),
        )


def main() -> None:
    options = common.arguments(["binary", "json"])
    asyncio.run(run(options.target, options.mode == "binary"))


if __name__ == "__main__":
    main()
