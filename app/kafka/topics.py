"""Seldon's topic names: `<prefix>.<namespace>.<kind>.<name>.inputs|outputs` for each model,
pipeline and explainer, and `<prefix>.<namespace>.errors.errors` for failures."""

from __future__ import annotations

from app.resolver import Kind, Target

INPUTS, OUTPUTS = "inputs", "outputs"
_KINDS = {kind.value for kind in Kind}


class Topics:
    """The topic names of one prefix and namespace."""

    def __init__(self, prefix: str = "seldon", namespace: str = "default") -> None:
        self.base = f"{prefix}.{namespace}"
        self.errors = f"{self.base}.errors.errors"

    def of(self, kind: Kind, name: str, side: str) -> str:
        """The `side` (INPUTS or OUTPUTS) topic of the servable `kind` `name`."""
        return f"{self.base}.{kind}.{name}.{side}"

    def inputs(self, target: Target) -> str:
        return self.of(target.kind, target.name, INPUTS)

    def outputs(self, target: Target) -> str:
        return self.of(target.kind, target.name, OUTPUTS)

    def target_of(self, topic: str) -> tuple[Target, str] | None:
        """The servable a topic of this namespace belongs to and its side (None for
        another namespace's topic, the errors topic, or a name of another shape)."""
        prefix = f"{self.base}."
        if not topic.startswith(prefix):
            return None
        kind, _, rest = topic[len(prefix) :].partition(".")
        name, _, side = rest.rpartition(".")
        if kind not in _KINDS or not name or side not in (INPUTS, OUTPUTS):
            return None
        return Target(Kind(kind), name), side
