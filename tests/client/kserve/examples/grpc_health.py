# KServe's gRPC is_server_ready() / is_server_live() / is_model_ready() examples.
import asyncio
import os

from kserve import InferenceGRPCClient


async def main() -> None:
    async with InferenceGRPCClient(os.environ["OIPSERVE_GRPC_URL"]) as client:
        is_ready = await client.is_server_ready(timeout=30.0)
        print("Server is ready to handle requests." if is_ready else "Server is not ready.")
        is_live = await client.is_server_live(timeout=30.0)
        print("Server is live" if is_live else "Server is not live")
        is_ready = await client.is_model_ready("iris")
        print("Model is ready for inference." if is_ready else "Model is not ready.")


asyncio.run(main())
