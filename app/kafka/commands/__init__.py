"""`oipserve infer --kafka BOOTSTRAP MODEL ...` and `oipserve pipeline inspect --kafka BOOTSTRAP
PIPELINE... --request-id ID`: the client commands through Seldon's topics instead of a URL
(`infer` in app.kafka.commands.infer, `inspect` in app.kafka.commands.inspect)."""

from __future__ import annotations

from app.kafka.commands.infer import run_infer
from app.kafka.commands.inspect import run_inspect

__all__ = ["run_infer", "run_inspect"]
