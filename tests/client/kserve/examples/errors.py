# Error handling with retries and timeouts: a retry loop with exponential backoff around
# infer (as KServe's error-recovery guide writes it), and per-call timeouts. Each failure
# prints what kind it was, so a client raising the wrong thing shows in the output.
import asyncio
import os
from typing import Any

from kserve import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest, RESTConfig


def kind(error: Exception) -> str:
    """What went wrong, in the terms both clients share: KServe's raise httpx and grpc
    errors, oipserve's a TimeoutError and errors with a `.status`."""
    names = {cls.__name__ for cls in type(error).__mro__}
    code = getattr(error, "code", None)
    if names & {"TimeoutError", "TimeoutException"} or (
        callable(code) and code().name == "DEADLINE_EXCEEDED"
    ):
        return "timed out"
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(
        getattr(error, "status", None), "http", None
    )
    return "not found (404)" if status == 404 else f"unexpected {type(error).__name__}"


async def infer_with_retry(
    client: Any, base_url: str, model_name: str, data: Any, max_retries: int = 3
) -> Any:
    """Make an inference request with exponential backoff."""
    for attempt in range(max_retries):
        try:
            return await client.infer(base_url=base_url, model_name=model_name, data=data)
        except Exception as error:
            if attempt == max_retries - 1:
                print(f"all {max_retries} attempts failed: {kind(error)}")
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
    except Exception as error:
        print(f"no-such-model: {kind(error)}")

    slow = InferInput(name="x", shape=[1], datatype="INT32", data=[1])
    try:
        await rest.infer(base_url, InferRequest("slow", [slow]), "slow", timeout=0.2)
    except Exception as error:
        print(f"REST: {kind(error)}")
    grpc = InferenceGRPCClient(os.environ["OIPSERVE_GRPC_URL"], timeout=30)
    try:
        await grpc.infer(InferRequest("slow", [slow]), timeout=0.2)
    except Exception as error:
        print(f"gRPC: {kind(error)}")
    response = await grpc.infer(InferRequest("slow", [slow]), timeout=None)
    print("gRPC without a timeout:", response.outputs[0].as_numpy().tolist())
    await rest.close()
    await grpc.close()


asyncio.run(main())
