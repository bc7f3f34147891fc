"""One logging setup for our code, uvicorn and grpc: text or JSON lines on stderr.

Records logged while a request is answered (also from the worker thread of a plain
predictor) carry its request id, model and version; JSON lines hold them as fields."""

from __future__ import annotations

import datetime
import logging
import sys
from typing import Any

import orjson

from app.context import current_context

CALL_FIELDS = ("request_id", "model", "version", "protocol", "status", "latency_ms")
"""Record attributes about the request a line belongs to, when there is one."""

_THIRD_PARTY = ("uvicorn", "uvicorn.error", "uvicorn.access", "grpc", "asyncio")


class ContextFilter(logging.Filter):
    """Adds the current request's id, model, version and front to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_context()
        if context is not None and not hasattr(record, "request_id"):
            record.request_id = context.id
            record.model = context.model
            record.version = context.version
            record.protocol = context.front
        return True


def _call_fields(record: logging.LogRecord) -> dict[str, Any]:
    found = {key: getattr(record, key, None) for key in CALL_FIELDS}
    return {key: value for key, value in found.items() if value not in (None, "")}


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message [request_id=... model=...]`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _call_fields(record)
        if not fields:
            return line
        detail = " ".join(f"{key}={_one_line(value)}" for key, value in fields.items())
        head, newline, rest = line.partition("\n")
        return f"{head} [{detail}]{newline}{rest}"


def _one_line(value: object) -> str:
    """A field's value, escaped as Python writes it when it holds a line break or another
    character that is not printable (a Kafka header may hold anything)."""
    text = str(value)
    return text if text.isprintable() else ascii(text)


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the call's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_call_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def setup_logging(level: str, fmt: str) -> None:
    """Send every record (ours, uvicorn's, grpc's) through one stderr handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _THIRD_PARTY:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.captureWarnings(True)
