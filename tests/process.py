"""A real `oipserve serve` process on 127.0.0.1 with ports picked by the system, for tests that
must talk to the server the way a user's client does (other processes, other tools)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The source tree (the folder holding pyproject.toml)."""

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
def serve(
    repository: Path,
    *,
    command: Sequence[str] = (sys.executable, "-m", "app"),
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Iterator[ServerProcess]:
    """Run `<command> serve <repository>` on 127.0.0.1, ports 0, in `cwd` with environment
    `env` (default: ours) until the block ends; then stop it with SIGTERM (SIGKILL after
    10 s) and check that it exited cleanly."""
    argv = [*command, "serve", str(repository), "--host", "127.0.0.1"]
    argv += ["--http-port", "0", "--grpc-port", "0"]
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=os.environ if env is None else env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
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
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        finally:
            reader.join(timeout=5)
            assert process.stdout is not None
            process.stdout.close()
    assert code == 0, f"server exited with {code}:\n{server.log}"
