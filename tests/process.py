"""A real `oipserve serve` process on 127.0.0.1 with ports picked by the system, for tests that
must talk to the server the way a user's client does (other processes, other tools)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The source tree (the folder holding pyproject.toml)."""

LOCAL_PORTS = {"OIPSERVE_HOST": "127.0.0.1", "OIPSERVE_HTTP_PORT": "0", "OIPSERVE_GRPC_PORT": "0"}
"""The environment that puts a server on 127.0.0.1, ports picked by the system."""

_REST = re.compile(r"REST listening on http://[^:]+:(\d+)")
_GRPC = re.compile(r"gRPC listening on \S+:(\d+)")
_READY = re.compile(r"server (ready|NOT ready)")


@dataclass
class ServerProcess:
    """A running server: its ports and everything it has logged so far."""

    process: subprocess.Popen[str]
    http_port: int = 0
    grpc_port: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def log(self) -> str:
        return "".join(self.lines)


def python(*arguments: str, timeout: float = 90) -> str:
    """What `python ARGUMENTS`, run in the source tree, prints; fails the test with its
    stderr unless it exits 0."""
    result = subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def oipserve(*args: str) -> tuple[int, str, str]:
    """`python -m app ARGS` (the `oipserve` command), awaited: exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def tool(name: str) -> str:
    """A command-line tool: next to this Python (the dev extra installs some), or on PATH."""
    here = Path(sys.executable).parent
    found = shutil.which(name, path=f"{here}{os.pathsep}{os.environ.get('PATH', '')}")
    assert found, f"{name} is not installed (pip install -e '.[dev]')"
    return found


def _read_log(server: ServerProcess, started: threading.Event) -> None:
    """Collect the server's log lines (so its pipe never fills) and note its ports; set
    `started` once it says whether it is ready, or when it exits."""
    assert server.process.stdout is not None
    for line in server.process.stdout:
        server.lines.append(line)
        if match := _REST.search(line):
            server.http_port = int(match[1])
        if match := _GRPC.search(line):
            server.grpc_port = int(match[1])
        if _READY.search(line):
            started.set()
    started.set()


@contextlib.contextmanager
def running(
    argv: Sequence[str],
    *,
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Iterator[ServerProcess]:
    """Run `argv` (which starts a server) in its own process group, in `cwd` with environment
    `env` (default: ours), until the server logs whether it is ready; yield it; then SIGTERM
    the group (SIGKILL after 10 s). `.process.returncode` is set afterwards."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=os.environ if env is None else env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = ServerProcess(process)
    started = threading.Event()
    reader = threading.Thread(target=_read_log, args=(server, started), daemon=True)
    reader.start()
    try:
        if not started.wait(timeout):
            raise TimeoutError(f"server not started after {timeout} s:\n{server.log}")
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log}")
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        finally:
            reader.join(timeout=5)
            assert process.stdout is not None
            process.stdout.close()


@contextlib.contextmanager
def serve(
    repository: Path,
    *,
    command: Sequence[str] = (sys.executable, "-m", "app"),
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """`<command> serve <repository>` on 127.0.0.1, ports 0, while the block runs; then
    check that SIGTERM stopped it cleanly."""
    argv = [*command, "serve", str(repository), "--host", "127.0.0.1"]
    argv += ["--http-port", "0", "--grpc-port", "0"]
    with running(argv, cwd=cwd, env=env) as server:
        yield server
    code = server.process.returncode
    assert code == 0, f"server exited with {code}:\n{server.log}"
