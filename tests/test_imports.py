"""The dependency rule of DESIGN.md, checked by walking app/ with `ast`; and the public API
of `app/__init__.py`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import app

APP = Path(app.__file__).parent
TRANSPORT_LIBRARIES = {
    "fastapi",
    "starlette",
    "grpc",
    "grpc_health",
    "grpc_reflection",
    "aiokafka",
    "uvicorn",
    "httpx",
    "google",
}
PROTOCOL_LIBRARIES = {"pydantic", "numpy", "orjson"}
CORE = {"app", "app.protocol", "app.settings", "app.model_settings", "app.predictors"}
FRONT = {"app", "app.protocol", "app.settings", "app.dataplane", "app.context", "app.resolver"}
"""What every front may import: a front hands the DataPlane a target, a payload and the
context it opened, and imports no other front."""
# Each module (by dotted prefix) and the app modules it may import (by dotted prefix). `app`
# alone means the package root (its `__version__` and public names).
RULES: dict[str, set[str]] = {
    "app.protocol": {"app.protocol"},
    "app.settings": {"app.protocol"},
    "app.model_settings": {"app.protocol"},
    "app.context": set(),
    "app.resolver": {"app.protocol", "app.context"},
    "app.deadlines": {"app.protocol"},
    "app.predictors": CORE | {"app.client"},
    "app.pipelines": CORE | {"app.client", "app.context", "app.pipelines"},
    "app.pipelines.store": CORE | {"app.client", "app.pipelines", "app.registry", "app.versions"},
    "app.explainers": CORE | {"app.client", "app.explainers", "app.resolver"},
    "app.batching": CORE,
    "app.stats": CORE,
    "app.signatures": CORE,
    "app.plans": CORE | {"app.signatures", "app.context", "app.batching", "app.stats"},
    "app.versions": CORE | {"app.plans", "app.stats", "app.resolver", "app.client.interface"},
    "app.registry": CORE
    | {"app.registry", "app.versions", "app.plans", "app.resolver", "app.client.interface"},
    "app.monitor": CORE | {"app.registry", "app.versions", "app.context"},
    "app.model_config": CORE,
    "app.metrics": CORE | {"app.registry", "app.versions", "app.context", "app.monitor"},
    "app.logs": {"app.context"},
    "app.tracing": {"app", "app.context"},
    "app.workers": {"app.settings", "app.kafka.settings"},
    "app.peers": {"app.protocol", "app.metrics", "app.stats"},
    "app.memory": set(),
    "app.extensions": CORE
    | {"app.registry", "app.versions", "app.pipelines", "app.model_config", "app.resolver"}
    | {"app.peers"},
    "app.dataplane": CORE
    | {"app.registry", "app.versions", "app.dataplane", "app.batching", "app.context"}
    | {"app.deadlines", "app.pipelines", "app.extensions"}
    | {"app.monitor", "app.resolver", "app.tracing", "app.peers"},
    "app.rest": FRONT | {"app.rest", "app.metrics"},
    "app.grpc": FRONT | {"app.grpc"},
    "app.kafka": FRONT
    | {"app.kafka", "app.grpc.convert", "app.grpc.raw_requests", "app.grpc.generated"}
    | {"app.pipelines.spec", "app.monitor"},
    "app.kafka.commands": FRONT
    | {"app.kafka", "app.client", "app.grpc.convert"}
    | {"app.grpc.generated"},
    "app.client": {
        "app",
        "app.protocol",
        "app.client",
        "app.grpc.convert",
        "app.grpc.metadata_messages",
        "app.grpc.service",
        "app.grpc.generated",
    },
    "app.client.inprocess": FRONT | {"app.client", "app.deadlines"},
}
EVERYTHING = {"app.server", "app.cli", "app.__main__", "app"}
NO_TRANSPORTS = (
    *("app.protocol", "app.settings", "app.model_settings", "app.predictors", "app.registry"),
    *("app.dataplane", "app.extensions"),
    *("app.context", "app.resolver", "app.deadlines", "app.plans", "app.signatures"),
    "app.versions",
    *("app.monitor", "app.stats", "app.model_config", "app.metrics", "app.logs", "app.memory"),
    "app.tracing",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    """Whether `name` is a module or package of app (not a name defined in one)."""
    relative = Path(*name.split(".")[1:])
    return (APP / relative).with_suffix(".py").is_file() or (
        APP / relative / "__init__.py"
    ).is_file()


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, as absolute names: `from app.x import y` counts `app.x.y`
    when y is a module, else `app.x`."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0]
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if base.split(".")[0] == "app" and _is_module(full) else base)
    return found


def _sources() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "generated" not in p.parts)


def _within(name: str, prefixes: set[str]) -> bool:
    return any(name == p or (p != "app" and name.startswith(f"{p}.")) for p in prefixes)


def _rule(module: str) -> set[str] | None:
    matches = [p for p in RULES if module == p or module.startswith(f"{p}.")]
    return RULES[max(matches, key=len)] if matches else None


@pytest.mark.parametrize("path", _sources(), ids=lambda p: _module_name(p))
def test_dependency_rule(path: Path) -> None:
    module = _module_name(path)
    if module in EVERYTHING:
        return
    allowed = _rule(module)
    assert allowed is not None, f"{module} has no rule: add it to RULES in {__file__}"
    app_imports = {n for n in _imports(path) if n.split(".")[0] == "app"}
    wrong = sorted(n for n in app_imports if not _within(n, allowed | {module}))
    assert not wrong, f"{module} must not import {wrong}"


@pytest.mark.parametrize(
    "path",
    [p for p in _sources() if _module_name(p).startswith(NO_TRANSPORTS)],
    ids=lambda p: _module_name(p),
)
def test_core_never_imports_a_transport_library(path: Path) -> None:
    tops = {name.split(".")[0] for name in _imports(path)}
    assert not tops & TRANSPORT_LIBRARIES, (
        f"{_module_name(path)} imports {tops & TRANSPORT_LIBRARIES}"
    )


@pytest.mark.parametrize(
    "path",
    [p for p in _sources() if _module_name(p).startswith("app.protocol")],
    ids=lambda p: _module_name(p),
)
def test_protocol_imports_only_its_libraries(path: Path) -> None:
    tops = {name.split(".")[0] for name in _imports(path)}
    foreign = tops - PROTOCOL_LIBRARIES - set(sys.stdlib_module_names) - {"app", "__future__"}
    assert not foreign, f"{_module_name(path)} imports {sorted(foreign)}"


def test_no_module_imports_itself_through_others() -> None:
    """The import graph of app's modules (the composition root and the lazy public names
    aside) has no cycle."""
    graph = {
        _module_name(path): {
            name for name in _imports(path) if name.split(".")[0] == "app" and name != "app"
        }
        for path in _sources()
        if _module_name(path) not in EVERYTHING
    }
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycle = [*trail[trail.index(module) :], module]
            pytest.fail(f"import cycle: {' -> '.join(cycle)}")
        if module in done or module not in graph:
            return
        for imported in sorted(graph[module]):
            visit(imported, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_the_walker_resolves_modules_and_names() -> None:
    imports = _imports(APP / "rest" / "__init__.py")
    assert {"app", "app.rest.docs", "app.dataplane", "fastapi"} <= imports
    assert "app.rest.docs.install_openapi" not in imports


def test_public_names_are_sorted_and_importable() -> None:
    assert app.__all__ == sorted(app.__all__)
    for name in app.__all__:
        assert getattr(app, name) is not None, name
    assert set(dir(app)) == {*app.__all__, "__version__"}
    with pytest.raises(AttributeError, match="module 'app' has no attribute 'nope'"):
        _ = app.nope


def test_public_names_match_their_type_stubs() -> None:
    tree = ast.parse((APP / "__init__.py").read_text())
    stubbed = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    } - {"annotations", "TYPE_CHECKING", "Any"}
    assert stubbed == set(app.__all__)


def test_import_app_pulls_in_no_server_library() -> None:
    code = (
        "import sys, app, app.protocol.types, app.protocol.codecs.messages; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'grpc', 'uvicorn', 'httpx') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
