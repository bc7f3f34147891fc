# Concurrent requests to several models with asyncio.gather, over REST and over gRPC.
import asyncio
import os

import numpy as np

from kserve import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest, RESTConfig


def request(model_name: str, rows: np.ndarray) -> InferRequest:
    infer_input = InferInput(name="input-0", shape=list(rows.shape), datatype="FP32")
    infer_input.set_data_from_numpy(rows)
    return InferRequest(model_name=model_name, infer_inputs=[infer_input])


async def main() -> None:
    base_url = os.environ["OIPSERVE_REST_URL"]
    iris = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
    ones = np.ones((2, 2), dtype=np.float32)
    rest = InferenceRESTClient(RESTConfig(protocol="v2"))
    grpc = InferenceGRPCClient(os.environ["OIPSERVE_GRPC_URL"])
    names = ["iris", "scale", "versioned"]
    inputs = [iris, ones, ones]
    over_rest = await asyncio.gather(
        *(
            rest.infer(base_url, request(name, rows), name)
            for name, rows in zip(names, inputs, strict=True)
        )
    )
    over_grpc = await asyncio.gather(
        *(grpc.infer(request(name, rows)) for name, rows in zip(names, inputs, strict=True))
    )
    for response in [*over_rest, *over_grpc]:
        print(response.model_name, response.outputs[0].as_numpy().round(3).tolist())
    await rest.close()
    await grpc.close()


asyncio.run(main())
