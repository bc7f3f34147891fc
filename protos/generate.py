"""Regenerate app/grpc/generated/ from protos/*.proto: `python protos/generate.py`.

Only message code (`_pb2.py` and its `.pyi` stubs) is generated; the servicer and the client
build their method handlers from the service descriptor. `--check` compares instead of
writing and exits 1 when the committed code has drifted from the sources."""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUTPUT = ROOT / "app" / "grpc" / "generated"
# Lines that name the generator's version, which may differ between machines.
_VERSION_LINE = re.compile(
    r"Protobuf Python Version|ValidateProtobufRuntimeVersion|^\s+\d+,\s*$|^\s+'',\s*$"
)


def generate(into: Path) -> list[Path]:
    """Write the generated modules into `into`; the paths written."""
    sources = sorted(PROTOS.glob("*.proto"))
    arguments = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{Path(protoc.__file__).parent / '_proto'}",
        f"--python_out={into}",
        f"--pyi_out={into}",
        *map(str, sources),
    ]
    if protoc.main(arguments) != 0:
        raise SystemExit("protoc failed")
    return sorted(
        p for p in into.iterdir() if p.suffix in (".py", ".pyi") and p.name != "__init__.py"
    )


def _normalized(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not _VERSION_LINE.search(line)]


def drift() -> list[str]:
    """Names of generated files that differ from what the sources generate now."""
    with tempfile.TemporaryDirectory() as folder:
        fresh = {p.name: p for p in generate(Path(folder))}
        committed = {
            p.name: p
            for p in OUTPUT.iterdir()
            if p.suffix in (".py", ".pyi") and p.name != "__init__.py"
        }
        names = sorted(set(fresh) | set(committed))
        return [
            name
            for name in names
            if name not in fresh
            or name not in committed
            or _normalized(fresh[name]) != _normalized(committed[name])
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift instead of writing")
    if parser.parse_args().check:
        drifted = drift()
        if drifted:
            sys.exit(f"generated code drifted from protos/: {', '.join(drifted)}")
        return
    for path in generate(OUTPUT):
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
