"""Building model repositories on disk for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import yaml

IRIS = Path(__file__).resolve().parent.parent / "models" / "iris"


def tensor(name: str, datatype: str, shape: list[int]) -> dict[str, Any]:
    return {"name": name, "datatype": datatype, "shape": shape}


def add_model(
    repository: Path,
    name: str,
    implementation: str,
    *,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    parameters: dict[str, Any] | None = None,
    versions: list[str] | None = None,
    **settings: Any,
) -> Path:
    """Write models/<name>/model-settings.json (and empty version folders); the folder."""
    folder = repository / name
    folder.mkdir(parents=True, exist_ok=True)
    content: dict[str, Any] = {"name": name, "implementation": implementation, **settings}
    if inputs is not None:
        content["inputs"] = inputs
    if outputs is not None:
        content["outputs"] = outputs
    if parameters is not None:
        content["parameters"] = parameters
    (folder / "model-settings.json").write_bytes(orjson.dumps(content))
    for version in versions or ():
        (folder / version).mkdir(exist_ok=True)
    return folder


def add_pipeline(repository: Path, name: str, spec: dict[str, Any], **metadata: Any) -> Path:
    """Write <repository>/<name>/pipeline.yaml: a Seldon Pipeline manifest with `spec`."""
    folder = repository / name
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "apiVersion": "mlops.seldon.io/v1alpha1",
        "kind": "Pipeline",
        "metadata": {"name": name, **metadata},
        "spec": spec,
    }
    (folder / "pipeline.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return folder


def add_tfsimples(repository: Path) -> None:
    """Seldon's `tfsimples` example: models tfsimple1 and tfsimple2 (tests.toys:Simple) and
    the pipeline feeding tfsimple1's two outputs to tfsimple2's two inputs."""
    for name in ("tfsimple1", "tfsimple2"):
        add_model(repository, name, "tests.toys:Simple")
    tensors = {"tfsimple1.outputs.OUTPUT0": "INPUT0", "tfsimple1.outputs.OUTPUT1": "INPUT1"}
    add_pipeline(
        repository,
        "tfsimples",
        {
            "steps": [
                {"name": "tfsimple1"},
                {"name": "tfsimple2", "inputs": ["tfsimple1"], "tensorMap": tensors},
            ],
            "output": {"steps": ["tfsimple2"]},
        },
    )
