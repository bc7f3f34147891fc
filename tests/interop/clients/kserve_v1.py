"""KServe's InferenceRESTClient with the v1 protocol: `python -m tests.interop.clients.kserve_v1
HOST:PORT v1`. Liveness, readiness, `:predict` with instances and with an InferRequest,
`:explain`, and the error of an unknown model; prints what it saw as JSON."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig

from tests.interop.clients import common


async def run(target: str) -> None:
    base = f"http://{target}"
    instances = {"instances": common.rows().tolist()}
    async with InferenceRESTClient(RESTConfig(protocol="v1", retries=0)) as client:
        tensor = InferInput(common.INPUT, list(common.rows().shape), "FP32")
        tensor.set_data_from_numpy(common.rows(), binary_data=False)
        inference = InferRequest(common.MODEL, [tensor], request_id=common.REQUEST_ID)
        headers: dict[str, str] = {}
        report: dict[str, Any] = {
            "live": await client.is_server_live(base),
            "ready": await client.is_model_ready(base, common.MODEL),
            "predict": await client.infer(
                base, instances, model_name=common.MODEL, response_headers=headers
            ),
            "request_id": headers.get("x-request-id"),
            "predict_v2_tensors": await client.infer(base, inference, model_name=common.MODEL),
            "explain": await client.explain(base, common.MODEL, instances),
        }
        try:
            await client.infer(base, instances, model_name=common.UNKNOWN_MODEL)
        except httpx.HTTPStatusError as error:
            report["unknown"] = common.failure(error.response.status_code, error.response.text)
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(run(common.arguments(["v1"]).target))
