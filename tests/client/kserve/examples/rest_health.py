# KServe's is_server_ready() / is_server_live() / is_model_ready() examples.
import asyncio
import os

from kserve import InferenceRESTClient, RESTConfig


async def main() -> None:
    config = RESTConfig(protocol="v2", retries=5, timeout=30)
    client = InferenceRESTClient(config)
    base_url = os.environ["OIPSERVE_REST_URL"]
    is_ready = await client.is_server_ready(base_url)
    print("Server is ready" if is_ready else "Server is not ready")
    is_live = await client.is_server_live(base_url)
    print("Server is live" if is_live else "Server is not live")
    model_name = "iris"
    is_ready = await client.is_model_ready(base_url, model_name)
    print("Model is ready" if is_ready else "Model is not ready")
    await client.close()


asyncio.run(main())
