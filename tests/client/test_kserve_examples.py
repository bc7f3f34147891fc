"""KServe's documented client usage runs unchanged apart from the import line against a real
oipserve: each script in kserve/examples runs once with KServe's clients and once with its
import line importing the same names from `app`, in subprocesses (kserve's protobuf messages
clash with ours in one process), and both runs print the same thing."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from app.server import Server

pytestmark = pytest.mark.slow
EXAMPLES = Path(__file__).parent / "kserve" / "examples"
SCRIPTS = sorted(path for path in EXAMPLES.glob("*.py") if path.name != "__init__.py")
EXPECTED: dict[str, list[str]] = {
    "rest_infer": ["dict: iris [0]", "content-type: application/json", "request: 42 [0, 2]"],
    "rest_health": ["Server is ready", "Server is live", "Model is ready"],
    "grpc_infer": ["7 iris output-0 [2, 3]", "[0, 2]"],
    "grpc_health": [
        "Server is ready to handle requests.",
        "Server is live",
        "Model is ready for inference.",
    ],
    "concurrent": [
        "scale [[3.0, 3.0], [3.0, 3.0]]",
        "versioned [[2.0, 2.0], [2.0, 2.0]]",
    ],
    "errors": [
        "iris: [0]",
        "all 3 attempts failed: not found (404)",
        "no-such-model: not found (404)",
        "REST: timed out",
        "gRPC: timed out",
        "gRPC without a timeout: [1]",
    ],
}


def with_our_import(source: str) -> str:
    """The script with its one `from kserve import ...` line importing from `app` instead."""
    assert source.count("from kserve import ") == 1
    assert "kserve." not in source
    return source.replace("from kserve import ", "from app import ", 1)


async def run(source: str, server: Server, folder: Path) -> str:
    script = folder / f"example_{abs(hash(source))}.py"
    script.write_text(source)
    env = {
        **os.environ,
        "OIPSERVE_REST_URL": f"http://127.0.0.1:{server.http_port}",
        "OIPSERVE_GRPC_URL": f"127.0.0.1:{server.grpc_port}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()[-3000:]
    return out.decode()


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.stem for path in SCRIPTS])
async def test_example_runs_the_same_with_kserve_and_with_oipserve(
    script: Path, server: Server, tmp_path: Path
) -> None:
    source = await asyncio.to_thread(script.read_text)
    theirs, ours = await asyncio.gather(
        run(source, server, tmp_path), run(with_our_import(source), server, tmp_path)
    )
    assert ours == theirs
    lines = ours.splitlines()
    for line in EXPECTED[script.stem]:
        assert line in lines
