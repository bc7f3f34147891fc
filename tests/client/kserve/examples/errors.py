# Error handling with retries and timeouts: a retry loop with exponential backoff around
# infer (as KServe's error-recovery guide writes it), and per-call timeouts.
import asyncio
import os
from typing import Any

from kserve import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest, RESTConfig


async def infer_with_retry(
    client: Any, base_url: str, model_name: str, data: Any, max_retries: int = 3
) -> Any:
    """Make an inference request with exponential backoff."""
    for attempt in range(max_retries):
        try:
            return await client.infer(base_url=base_url, model_name=model_name, data=data)
        except Exception:
            if attempt == max_retries - 1:
                print(f"all {max_retries} attempts failed")
                raise
            await asyncio.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


async def main() -> None:
    base_url = os.environ["OIPSERVE_REST_URL"]
    rest = InferenceRESTClient(RESTConfig(protocol="v2", retries=2, timeout=30))
    data = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32",
                        "data": [5.1, 3.5, 1.4, 0.2]}]}  # fmt: skip
    result = await infer_with_retry(rest, base_url, "iris", data)
    print("iris:", result.outputs[0].as_numpy().argmax(axis=1).tolist())
    try:
        await infer_with_retry(rest, base_url, "no-such-model", data)
    except Exception:
        print("no-such-model: failed as expected")

    slow = InferInput(name="x", shape=[1], datatype="INT32", data=[1])
    try:
        await rest.infer(base_url, InferRequest("slow", [slow]), "slow", timeout=0.2)
    except Exception:
        print("REST: timed out")
    grpc = InferenceGRPCClient(os.environ["OIPSERVE_GRPC_URL"], timeout=30)
    try:
        await grpc.infer(InferRequest("slow", [slow]), timeout=0.2)
    except Exception:
        print("gRPC: timed out")
    response = await grpc.infer(InferRequest("slow", [slow]), timeout=None)
    print("gRPC without a timeout:", response.outputs[0].as_numpy().tolist())
    await rest.close()
    await grpc.close()


asyncio.run(main())
