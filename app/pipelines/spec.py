"""A pipeline as the executor runs it: its steps, their references and joins, its output,
and the tables of who reads whom that `app.pipelines.manifest` derives when it reads one.

A reference names tensors: `<step>.outputs[.<tensor>]`, `<step>.inputs[.<tensor>]` (what that
step was sent) or `<pipeline>.inputs[.<tensor>]` (the request's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.protocol.errors import InvalidInput

INPUTS, OUTPUTS = "inputs", "outputs"
OUTPUT = ""
"""The name the output join goes by among the steps' joins."""


class PipelineError(InvalidInput):
    """A manifest that is not a valid pipeline; the message names the field and reference."""


class Join(StrEnum):
    INNER = "inner"
    OUTER = "outer"
    ANY = "any"


@dataclass(frozen=True)
class Reference:
    """Tensors of a step's (or the pipeline's) inputs or outputs: all, or one by name."""

    source: str
    side: str
    tensor: str | None = None

    def __str__(self) -> str:
        tail = f".{self.tensor}" if self.tensor is not None else ""
        return f"{self.source}.{self.side}{tail}"


@dataclass(frozen=True)
class Step:
    """One step: the model it calls (its name), what it takes and when it runs."""

    name: str
    inputs: tuple[Reference, ...]
    tensor_map: dict[str, str] = field(default_factory=dict)
    """New names of tensors on the way in, by full reference."""
    inputs_join: Join = Join.INNER
    triggers: tuple[Reference, ...] = ()
    triggers_join: Join = Join.INNER
    join_window_ms: int | None = None
    upstream: frozenset[str] = frozenset()
    """The steps it takes inputs or triggers from."""


@dataclass(frozen=True)
class Output:
    """What the pipeline answers: the tensors of `steps`, joined, renamed by `tensor_map`."""

    steps: tuple[Reference, ...]
    steps_join: Join = Join.INNER
    tensor_map: dict[str, str] = field(default_factory=dict)
    join_window_ms: int | None = None


@dataclass(frozen=True)
class PipelineInput:
    """`spec.input`: the pipeline also runs on each answer of pipeline `source`, read from
    its outputs topic (Kafka), taking its `tensors` (all when empty) renamed by `renames`."""

    source: str
    tensors: tuple[str, ...] = ()
    renames: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    steps: dict[str, Step]
    """The steps by name, in the manifest's order."""
    output: Output
    allow_cycles: bool = False
    input: PipelineInput | None = None
    max_step_revisits: int = 0
    readers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The steps that take inputs or triggers from each step (and from the pipeline's
    inputs, under its name), in the manifest's order."""
    watchers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The steps that take each step's inputs (`<step>.inputs`), in the manifest's order:
    the only ones a step's start can make ready."""
    downstream: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The steps after each step, directly or through others, in the manifest's order."""
    windows: tuple[tuple[str, int], ...] = ()
    """The joins with a joinWindowMs (the output's as OUTPUT), with their windows in ms."""
    woken: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The steps each step's answer can make ready: its readers, and the `outer` joins after
    it (which wait until every step before them is done)."""
    sequential: bool = False
    """Whether each step reads only the one before it (the first: the pipeline's inputs),
    with no triggers, and the output only the last: then the steps run one after the
    other, each once, each join evaluated once, when the step before has answered."""
