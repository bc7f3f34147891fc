"""The README's client example runs against a real server."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from app.server import Server

README = Path(__file__).resolve().parents[2] / "README.md"


def example() -> str:
    text = README.read_text()
    match = re.search(r"<!-- test: clients example -->\n```python\n(.*?)```", text, re.S)
    assert match, "README has no clients example"
    return match.group(1)


async def test_readme_client_example(server: Server) -> None:
    source = example().replace("localhost:8080", f"127.0.0.1:{server.http_port}")
    source = source.replace("localhost:8081", f"127.0.0.1:{server.grpc_port}")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        source,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    rest, rest_error, grpc, grpc_error = out.decode().splitlines()
    assert rest.endswith(" 42 [0 2]")
    assert rest.startswith("http://")
    assert grpc.endswith(" 42 [0 2]")
    assert grpc.startswith("grpc://")
    assert rest_error == grpc_error == "NOT_FOUND model 'nope' not found"
