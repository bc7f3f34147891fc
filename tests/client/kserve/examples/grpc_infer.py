# KServe's InferenceGRPCClient.infer() example, with the InferRequest built from numpy.
import asyncio
import os

import numpy as np

from kserve import InferenceGRPCClient, InferInput, InferRequest


async def main() -> None:
    client = InferenceGRPCClient(url=os.environ["OIPSERVE_GRPC_URL"])
    rows = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
    infer_input = InferInput(name="input-0", shape=list(rows.shape), datatype="FP32")
    infer_input.set_data_from_numpy(rows)
    infer_request = InferRequest(model_name="iris", infer_inputs=[infer_input], request_id="7")
    timeout = 30.0
    headers = [("header-key", "header-value")]
    response = await client.infer(infer_request, timeout, headers)
    output = response.outputs[0]
    print(response.id, response.model_name, output.name, output.shape)
    print(output.as_numpy().argmax(axis=1).tolist())
    await client.close()


asyncio.run(main())
