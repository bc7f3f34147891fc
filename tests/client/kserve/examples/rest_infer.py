# KServe's InferenceRESTClient.infer() example: a JSON dict, then an InferRequest.
import asyncio
import os

import numpy as np

from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig


async def main() -> None:
    config = RESTConfig(protocol="v2", retries=5, timeout=30)
    client = InferenceRESTClient(config)
    base_url = os.environ["OIPSERVE_REST_URL"]
    data = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32",
                        "data": [5.1, 3.5, 1.4, 0.2]}]}  # fmt: skip
    model_name = "iris"
    headers = {"Authorization": "Bearer YOUR_TOKEN"}
    response_headers: dict[str, str] = {}
    result = await client.infer(base_url, data, model_name, headers, response_headers)
    print("dict:", result.model_name, result.outputs[0].as_numpy().argmax(axis=1).tolist())
    print("content-type:", response_headers["content-type"])

    rows = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
    infer_input = InferInput(name="input-0", shape=list(rows.shape), datatype="FP32")
    infer_input.set_data_from_numpy(rows)
    request = InferRequest(model_name="iris", infer_inputs=[infer_input], request_id="42")
    result = await client.infer(base_url, request, model_name)
    print("request:", result.id, result.outputs[0].as_numpy().argmax(axis=1).tolist())
    await client.close()


asyncio.run(main())
