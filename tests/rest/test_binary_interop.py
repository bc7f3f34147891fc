"""NVIDIA's tritonclient.http against a real server through the binary tensor data
extension: binary inputs of every kind, binary and JSON outputs (run in a subprocess, since
tritonclient's protobuf messages clash with ours)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from app.server import Server

SCRIPT = Path(__file__).with_name("triton_binary.py")
pytestmark = pytest.mark.slow


async def _report(server: Server) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        f"127.0.0.1:{server.http_port}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    report: dict[str, Any] = json.loads(out)
    return report


async def test_tritonclient_binary_inputs_and_outputs(server: Server) -> None:
    report = await _report(server)
    assert "binary_tensor_data" in report["extensions"]
    datatypes = {
        "fp32": "FP32",
        "fp16": "FP16",
        "int64": "INT64",
        "uint8": "UINT8",
        "bool": "BOOL",
        "bytes": "BYTES",
        "raw": "BYTES",
    }
    for name, datatype in datatypes.items():
        for mode in ("requested", "default"):
            output = report[mode][name]
            assert output["equal"], (mode, name)
            assert output["datatype"] == datatype
    assert {name for name, out in report["requested"].items() if not out["binary"]} == {
        "uint8",
        "bytes",
    }
    assert all(output["binary"] for output in report["default"].values())
