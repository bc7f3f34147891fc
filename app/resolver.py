"""What a request names, as a `Target`: a model, a pipeline or an explainer.

A request names its target by its path (`/v2/models/<name>/...`, or the gRPC message's
model name), by Seldon's `seldon-model` header (REST) or metadata key (gRPC), which beats the
path, and later by its Kafka topic. Names take Seldon's forms: `name` or `name.model` is a
model, `name.pipeline` a pipeline, `name.explainer` an explainer. In a path, a name with
any other suffix is a model's whole name (model names may hold dots); in the header it is
refused, as Seldon refuses it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from app.context import SELDON_MODEL
from app.protocol.errors import InvalidInput


class Kind(StrEnum):
    MODEL = "model"
    PIPELINE = "pipeline"
    EXPLAINER = "explainer"


_SUFFIXES = {f".{kind.value}": kind for kind in Kind}


class Target(NamedTuple):
    """A servable: its kind, its name, and the version asked for (None: the default)."""

    kind: Kind
    name: str
    version: str | None = None

    def __str__(self) -> str:
        """How messages name it: `model 'iris'`."""
        return f"{self.kind} {self.name!r}"

    @property
    def label(self) -> str:
        """How metrics and logs name it: a pipeline as `name.pipeline`, a model or an
        explainer (a model of the repository) by its name."""
        return f"{self.name}.{self.kind}" if self.kind is Kind.PIPELINE else self.name


def target_of(name: str, version: str | None = None, header: str | None = None) -> Target:
    """The target a request names by its path's (or message's) `name` and `version`, or by
    its `seldon-model` header when it has one. InvalidInput for an empty name or a
    malformed header."""
    if header is not None:
        return _from_header(header, version)
    if not name:
        raise InvalidInput("model name required")
    dot = name.rfind(".")
    if dot > 0:
        kind = _SUFFIXES.get(name[dot:])
        if kind is not None:
            return Target(kind, name[:dot], version)
    return Target(Kind.MODEL, name, version)


def _from_header(value: str, version: str | None) -> Target:
    name, dot, suffix = value.partition(".")
    kind = _SUFFIXES.get(dot + suffix) if dot else Kind.MODEL
    if not name or kind is None:
        raise InvalidInput(
            f"Bad or missing header {SELDON_MODEL}: {value!r} is not 'name', 'name.model', "
            "'name.pipeline' or 'name.explainer'"
        )
    return Target(kind, name, version)
