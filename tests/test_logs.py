"""Log lines: the current call's fields in text and JSON, one setup for every logger."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from app.context import REST, RequestContext, enter_context, leave_context, open_context
from app.logs import ContextFilter, JSONFormatter, TextFormatter, setup_logging


def _record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("oipserve.test", logging.INFO, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    ContextFilter().filter(record)
    return record


def _in_request(request_id: str) -> RequestContext:
    context = open_context(REST, [("x-request-id", request_id)])
    context.model = "iris"
    return context


def test_lines_outside_a_call_have_no_call_fields() -> None:
    line = json.loads(JSONFormatter().format(_record("plain")))
    assert set(line) == {"time", "level", "logger", "message"}
    assert line["message"] == "plain"
    assert TextFormatter().format(_record("plain")).endswith("INFO oipserve.test: plain")


def test_lines_inside_a_call_carry_its_id_and_model() -> None:
    token = enter_context(_in_request("req-7"))
    try:
        record = _record("hello %s", "there")
    finally:
        leave_context(token)
    line = json.loads(JSONFormatter().format(record))
    assert line["message"] == "hello there"
    assert (line["request_id"], line["model"], line["protocol"]) == ("req-7", "iris", "rest")
    assert "version" not in line  # not resolved yet: empty fields are left out
    text = TextFormatter().format(record)
    assert text.endswith("hello there [request_id=req-7 model=iris protocol=rest]")


def test_a_field_holding_a_line_break_stays_on_its_line() -> None:
    """A Kafka header may hold anything: a request id cannot forge a log line."""
    record = _record("request done", request_id="r1\n2026-12-05 INFO forged: hi", model="m")
    text = TextFormatter().format(record)
    assert text.splitlines() == [text]
    assert text.endswith("request done [request_id='r1\\n2026-12-05 INFO forged: hi' model=m]")


def test_explicit_fields_win_and_exceptions_are_kept() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        record = _record("failed", request_id="given", status="internal", latency_ms=1.5)
        record.exc_info = sys.exc_info()
    line = json.loads(JSONFormatter().format(record))
    assert (line["request_id"], line["status"], line["latency_ms"]) == ("given", "internal", 1.5)
    assert "ValueError: bad" in line["exception"]


async def test_worker_threads_see_the_call() -> None:
    token = enter_context(_in_request("in-thread"))
    try:
        record = await asyncio.to_thread(_record, "from a thread")
    finally:
        leave_context(token)
    assert record.request_id == "in-thread"  # type: ignore[attr-defined]  # set by ContextFilter


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


@pytest.mark.usefixtures("restore_logging")
def test_setup_sends_every_logger_through_one_json_handler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging.getLogger("uvicorn.error").addHandler(logging.NullHandler())
    setup_logging("warning", "json")
    assert logging.getLogger().level == logging.WARNING
    logging.getLogger("uvicorn.error").warning("from uvicorn")
    logging.getLogger("oipserve").info("below the level")
    logging.getLogger("oipserve").error("from us")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("uvicorn.error", "from uvicorn"),
        ("oipserve", "from us"),
    ]
    assert not logging.getLogger("uvicorn.error").handlers
