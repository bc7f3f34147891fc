"""How long the bundled iris explainer (occlusion, numpy only) takes to explain 10 rows of
iris, through the in-process client as any caller in the server would, with the bundled
models loaded as the server loads them:

    python -m bench.explain [--explanations N] [--method occlusion|kernel_shap]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

from app.client import InferInput, InferRequest
from app.client.inprocess import InProcessClient
from app.dataplane import DataPlane
from app.registry import ModelRegistry
from app.settings import ServerSettings

BUNDLED = Path(__file__).resolve().parent.parent / "models"
ROWS = 10


async def _explainer(repository: Path) -> InProcessClient:
    registry = ModelRegistry(repository)
    dataplane = DataPlane(registry, ServerSettings(model_repository=repository))
    client = registry.client = InProcessClient(dataplane)
    await registry.load_repository(["iris", "iris-explainer"])
    dataplane.mark_started()
    return client


def _repository(folder: Path, method: str) -> Path:
    """The bundled iris and its explainer, with `method` as the explainer's type."""
    for name in ("iris", "iris-explainer"):
        shutil.copytree(BUNDLED / name, folder / name)
    settings = folder / "iris-explainer" / "model-settings.json"
    content = orjson.loads(settings.read_bytes())
    content["explainer"]["type"] = method
    settings.write_bytes(orjson.dumps(content))
    return folder


async def main(explanations: int, method: str) -> None:
    table = np.loadtxt(BUNDLED / "iris" / "iris.csv", delimiter=",", skiprows=1)
    rows = table[:: len(table) // ROWS][:ROWS, :4].astype(np.float32)
    tensor = InferInput.of_array("input-0", rows)
    assert tensor is not None
    with tempfile.TemporaryDirectory() as folder:
        client = await _explainer(_repository(Path(folder), method))
        request = InferRequest("iris-explainer.explainer", [tensor])
        seconds = []
        for _ in range(explanations + 1):  # the first one warms up
            started = time.perf_counter()
            response = await client.infer(request)
            seconds.append(time.perf_counter() - started)
        explanation = orjson.loads(response["explanation"].as_numpy()[0])
    shape = np.array(explanation["data"]["attributions"]).shape
    print(
        f"{method}: {ROWS} iris rows explained in {statistics.median(seconds[1:]) * 1000:.1f} ms "
        f"(median of {explanations}; attributions {list(shape)})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--explanations", type=int, default=20)
    parser.add_argument("--method", choices=["occlusion", "kernel_shap"], default="occlusion")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.explanations, arguments.method))
