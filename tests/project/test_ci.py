"""The CI workflow and the pre-commit hooks: valid configurations that run the project's checks."""

from __future__ import annotations

import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import yaml

from tests.process import ROOT, tool

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_workflow_is_a_valid_github_workflow() -> None:
    """Checked against the GitHub workflow schema that check-jsonschema ships (offline)."""
    result = run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)
    )
    assert result.returncode == 0, result.stdout + result.stderr


def job_commands(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_workflow_runs_every_check_on_python_311() -> None:
    jobs = load(WORKFLOW)["jobs"]
    expected = {
        "lint": ["ruff check .", "ruff format --check ."],
        "types": ["pip install -e '.[dev]'", "mypy"],
        "tests": ["bash .ci/run"],
        "hadolint": ["hadolint Dockerfile"],
        "image": ["docker build", "docker run", "/v2/health/ready", "/v2/models/iris/infer"],
    }
    assert set(expected) <= set(jobs)
    for name, commands in expected.items():
        for command in commands:
            assert command in job_commands(jobs[name]), (name, command)
    pythons = [
        step["with"]["python-version"]
        for job in jobs.values()
        for step in job["steps"]
        if step.get("uses", "").startswith("actions/setup-python")
    ]
    assert pythons
    assert set(pythons) == {"3.11"}


def _pip_installs(commands: str) -> list[str]:
    """What the `pip install` commands among `commands` install, as written."""
    found = []
    for line in commands.splitlines():
        if "pip install" in line:
            words = shlex.split(line, comments=True)
            found += [word for word in words[words.index("install") + 1 :] if word != "-e"]
    return found


def test_workflow_installs_the_dev_extras_tools() -> None:
    """Each job installs the project with its dev extra, or a tool with the dev extra's own
    requirement (the same ruff the developers run, not whatever is newest)."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    requirements = set(extras["dev"]) | {".[dev]"}
    jobs = load(WORKFLOW)["jobs"]
    for name, job in jobs.items():
        for package in _pip_installs(job_commands(job)):
            assert package in requirements, (name, package)
    (ruff,) = [requirement for requirement in extras["dev"] if requirement.startswith("ruff")]
    assert {ruff, ".[dev]"} & set(_pip_installs(job_commands(jobs["lint"])))


def test_pre_commit_config_is_valid() -> None:
    result = run(tool("pre-commit"), "validate-config", str(PRE_COMMIT))
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_hooks_run_the_dev_extras_tools() -> None:
    """ruff, ruff format, mypy (strict via pyproject, on the whole configured tree) and
    hadolint, each the dev extra's own executable in the README's .venv."""
    (repo,) = load(PRE_COMMIT)["repos"]
    hooks = {hook["id"]: hook for hook in repo["hooks"]}
    assert set(hooks) == {"ruff", "ruff-format", "mypy", "hadolint"}
    for hook in hooks.values():
        executable = hook["entry"].split()[0]
        assert executable.startswith(".venv/bin/")
        tool(Path(executable).name)  # installed by the dev extra
    assert hooks["ruff-format"]["entry"].split()[1] == "format"
    assert hooks["mypy"]["pass_filenames"] is False
    assert hooks["hadolint"]["types"] == ["dockerfile"]


def test_ci_installs_the_system_tools_the_tests_run() -> None:
    """`.ci/run` installs what the tests run besides Python (valgrind for the instruction
    counts, taskset from util-linux for the bench's pinning, Chromium for the docs pages)
    when a machine lacks it; here, each is found by a command the script looks for."""
    script = (ROOT / ".ci" / "run").read_text()
    (line,) = [line for line in script.splitlines() if line.startswith("TOOLS=")]
    tools = dict(pair.split(":") for pair in shlex.split(line.removeprefix("TOOLS="))[0].split())
    assert tools == {
        "valgrind": "valgrind",
        "taskset": "util-linux",
        "chromium|google-chrome": "chromium",
    }
    for commands in tools:
        found = [run("bash", "-c", f"command -v {name}").returncode for name in commands.split("|")]
        assert 0 in found, commands
