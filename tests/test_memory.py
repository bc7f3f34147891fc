"""glibc malloc tuning (app.memory): large buffers come from the heap, not fresh mappings."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from app.memory import MALLOC_ENV

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")

# Run in a fresh process: how much memory is in mmapped chunks (mallinfo2().hblkhd) while an
# 8 MB buffer is alive, first under glibc's defaults, then after tune_malloc().
PROBE = """
import ctypes, json
from app.memory import tune_malloc

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split())]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2

def mapped_while_alive():
    before = libc.mallinfo2().hblkhd
    buffer = bytearray(8 << 20)
    return libc.mallinfo2().hblkhd - before

default = mapped_while_alive()
print(json.dumps({"default": default, "tuned": tune_malloc(), "after": mapped_while_alive()}))
"""


def test_tuned_malloc_serves_large_buffers_from_the_heap() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    assert report["default"] >= 8 << 20  # glibc's default: a fresh mapping per buffer
    assert report["tuned"] is True
    assert report["after"] == 0


def test_the_environment_form_tunes_the_same() -> None:
    """MALLOC_ENV (what the Dockerfile sets) has glibc tuned before Python even starts."""
    env = {**os.environ, **MALLOC_ENV}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env
    )
    assert json.loads(done.stdout)["default"] == 0
