"""A real `oipserve serve` process for tests: started with JSON logs on 127.0.0.1, port 0,
its log lines collected as they come."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

_LISTENING = re.compile(r"(REST|gRPC|metrics) (?:listening )?on (?:http://)?[\d.]+:(\d+)")


class ServerProcess:
    """`with ServerProcess(repo, "--drain-seconds", "1") as server: server.http_port ...`"""

    def __init__(self, repository: Path, *flags: str) -> None:
        self.command = [
            sys.executable,
            "-m",
            "app",
            "serve",
            str(repository),
            "--host",
            "127.0.0.1",
            "--http-port",
            "0",
            "--grpc-port",
            "0",
            "--log-format",
            "json",
            *flags,
        ]
        self.logs: list[dict[str, Any]] = []
        self.ports: dict[str, int] = {}
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def process(self) -> subprocess.Popen[str]:
        assert self._process is not None
        return self._process

    @property
    def http_port(self) -> int:
        return self.ports["REST"]

    @property
    def grpc_port(self) -> int:
        return self.ports["gRPC"]

    def __enter__(self) -> ServerProcess:
        self._process = subprocess.Popen(self.command, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for_log(r"^server (ready|NOT ready)$", timeout=60)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._reader is not None:
            self._reader.join(5)
        if self.process.stderr is not None:
            self.process.stderr.close()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = {"level": "RAW", "message": line.rstrip()}
            found = _LISTENING.search(record.get("message", ""))
            if found and record.get("logger") == "oipserve":
                self.ports[found[1]] = int(found[2])
            self.logs.append(record)

    def messages(self) -> list[str]:
        return [record.get("message", "") for record in list(self.logs)]

    def wait_for_log(self, pattern: str, timeout: float = 30) -> dict[str, Any]:
        """The first log record whose message matches `pattern`, waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in list(self.logs):
                if re.search(pattern, record.get("message", "")):
                    return record
            if self.process.poll() is not None and self._reader and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"no log line matches {pattern!r}; log: {self.messages()}")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 60) -> int:
        """Send `sig` and wait for the process to exit; its exit code."""
        self.process.send_signal(sig)
        code = self.process.wait(timeout)
        if self._reader is not None:
            self._reader.join(5)
        return code
