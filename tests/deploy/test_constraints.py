"""deploy/constraints.txt is current: given it, pip resolves oipserve[tracing,kafka] (what the image
installs) to exactly its pins, no more and no fewer, so the image's dependency set is the one
reviewed, metrics and clients included. (It asks the package index, as the image build does.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.process import ROOT, python

CONSTRAINTS = ROOT / "deploy" / "constraints.txt"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_canonical(name)] = version
    return pins


@pytest.mark.slow
def test_the_constraints_are_what_pip_resolves(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    python(
        *("-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"),
        *("--report", str(report), "--constraint", str(CONSTRAINTS), ".[tracing,kafka]"),
        timeout=300,
    )
    resolved = {
        _canonical(item["metadata"]["name"]): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    assert resolved.pop("oipserve")
    assert resolved == _pinned(), "stale: run `python deploy/lock.py`"


def test_the_image_gets_metrics_clients_tracing_and_kafka() -> None:
    pinned = _pinned()
    for package in (
        "prometheus-client",
        "httpx",
        "opentelemetry-sdk",
        "fastapi-offline",
        "aiokafka",
    ):
        assert package in pinned, package
