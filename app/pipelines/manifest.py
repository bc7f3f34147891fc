"""Seldon `Pipeline` manifests: read, normalised and checked as Seldon checks them, into a
PipelineSpec.

A bare reference `x` means `x.inputs` when `x` is the pipeline's name and `x.outputs`
otherwise. A step without inputs takes the pipeline's inputs. The checks run in Seldon's
order, and each names what is wrong.
"""

from __future__ import annotations

import re
import reprlib
from typing import Any

from app.pipelines.graph import check_graph, graph
from app.pipelines.spec import (
    INPUTS,
    OUTPUT,
    OUTPUTS,
    Join,
    Output,
    PipelineError,
    PipelineInput,
    PipelineSpec,
    Reference,
    Step,
)

API_VERSION = "mlops.seldon.io/v1alpha1"
KIND = "Pipeline"
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict, _SHOWN.maxstring = 2, 4, 4, 60
_shown = _SHOWN.repr
"""A value of the manifest as messages show it: cut short (an alias bomb expands to gigabytes)."""
MAX_STEPS = 256
"""The most steps a pipeline may have: its graph is worked out as it loads, on the event loop
(2,000 steps took 2.5 s)."""
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
"""A name Seldon accepts for a pipeline: a DNS label (no dots)."""


def pipeline_spec(manifest: object, folder: str) -> PipelineSpec:
    """The pipeline a manifest describes, for the repository folder `folder`; PipelineError
    for the first problem, in Seldon's order of checks."""
    document = _mapping(manifest, "the manifest")
    if document.get("apiVersion") != API_VERSION or document.get("kind") != KIND:
        raise PipelineError(f"the manifest must have apiVersion {API_VERSION} and kind {KIND}")
    name = _mapping(document.get("metadata"), "metadata").get("name")
    if name != folder:
        raise PipelineError(f"metadata.name {_shown(name)} must be the folder's name {folder!r}")
    if not _NAME.fullmatch(folder):
        raise PipelineError(
            f"pipeline {folder!r} does not have a valid name: lower-case letters, digits "
            "and '-', no dots"
        )
    spec = _mapping(document.get("spec"), "spec")
    external = _input(name, spec.get("input"))
    steps = _steps(name, spec.get("steps"))
    output = _output(name, spec.get("output"), steps)
    readers, watchers, downstream, woken = graph(name, steps)
    windows = [(step.name, step.join_window_ms) for step in steps.values()]
    windows.append((OUTPUT, output.join_window_ms))
    pipeline = PipelineSpec(
        name,
        steps,
        output,
        allow_cycles=_flag(spec.get("allowCycles", False), f"pipeline {name!r}: allowCycles"),
        input=external,
        max_step_revisits=_count(
            spec.get("maxStepRevisits", 0), f"pipeline {name!r}: maxStepRevisits"
        ),
        readers=readers,
        watchers=watchers,
        downstream=downstream,
        windows=tuple((where, ms) for where, ms in windows if ms is not None),
        woken=woken,
        sequential=_sequential(name, steps, output),
    )
    check_graph(pipeline)
    return pipeline


def _sequential(pipeline: str, steps: dict[str, Step], output: Output) -> bool:
    """See `PipelineSpec.sequential`."""
    before = (pipeline, INPUTS)
    for step in steps.values():
        if step.triggers or any((ref.source, ref.side) != before for ref in step.inputs):
            return False
        before = (step.name, OUTPUTS)
    return all((ref.source, ref.side) == before for ref in output.steps)


def _mapping(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PipelineError(f"{what} must be a mapping")
    return value


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise PipelineError(f"{what} must be true or false, got {_shown(value)}")
    return value


def _count(value: object, what: str) -> int:
    if type(value) is not int or value < 0:
        raise PipelineError(f"{what} must be an integer >= 0, got {_shown(value)}")
    return value


def _join(value: object, what: str) -> Join:
    if value is None:
        return Join.INNER
    if value not in tuple(Join):
        raise PipelineError(f"{what} must be inner, outer or any, got {_shown(value)}")
    return Join(str(value))


def _steps(pipeline: str, items: object) -> dict[str, Step]:
    """The steps, checked as Seldon checks them: all the names, then all the inputs, then
    all the triggers."""
    if not isinstance(items, list) or not items:
        raise PipelineError(f"pipeline {pipeline!r} has no steps defined")
    if len(items) > MAX_STEPS:
        raise PipelineError(f"pipeline {pipeline!r} has {len(items)} steps, more than {MAX_STEPS}")
    named: dict[str, dict[str, Any]] = {}
    for item in items:
        step = _mapping(item, f"pipeline {pipeline!r}: a step")
        name = step.get("name")
        if not isinstance(name, str) or not name:
            raise PipelineError(f"pipeline {pipeline!r}: a step has no name")
        if name in named:
            raise PipelineError(f"pipeline {pipeline!r} has repeated step {name!r}")
        named[name] = step
    if pipeline in named:
        raise PipelineError(f"pipeline {pipeline!r} must not have a step named like the pipeline")
    inputs = {
        name: _references(
            pipeline, step.get("inputs"), f"pipeline {pipeline!r} step {name!r} input"
        )
        for name, step in named.items()
    }
    triggers = {
        name: _references(
            pipeline, step.get("triggers"), f"pipeline {pipeline!r} step {name!r} trigger"
        )
        for name, step in named.items()
    }
    return {
        name: _step(pipeline, name, step, inputs[name], triggers[name])
        for name, step in named.items()
    }


def _step(
    pipeline: str,
    name: str,
    item: dict[str, Any],
    inputs: tuple[Reference, ...],
    triggers: tuple[Reference, ...],
) -> Step:
    what = f"pipeline {pipeline!r} step {name!r}"
    window = item.get("joinWindowMs")
    return Step(
        name=name,
        inputs=inputs or (Reference(pipeline, INPUTS),),
        tensor_map=_tensor_map(item.get("tensorMap"), f"{what} tensorMap"),
        inputs_join=_join(item.get("inputsJoinType"), f"{what} inputsJoinType"),
        triggers=triggers,
        triggers_join=_join(item.get("triggersJoinType"), f"{what} triggersJoinType"),
        join_window_ms=None if window is None else _count(window, f"{what} joinWindowMs"),
        upstream=frozenset(ref.source for ref in (*inputs, *triggers) if ref.source != pipeline),
    )


def _references(pipeline: str, items: object, what: str) -> tuple[Reference, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise PipelineError(f"{what}s must be a list")
    return tuple(reference(pipeline, item, what) for item in items)


def reference(pipeline: str, text: object, what: str) -> Reference:
    """The reference `text` names in a step of `pipeline` (normalised as Seldon does)."""
    if not isinstance(text, str) or not text.strip() or text.startswith("."):
        raise PipelineError(f"{what} {_shown(text)} is empty")
    parts = text.split(".")
    if len(parts) == 1:
        return Reference(text, INPUTS if text == pipeline else OUTPUTS)
    if len(parts) > 3 or parts[1] not in (INPUTS, OUTPUTS) or not all(parts):
        raise PipelineError(
            f"{what} {_shown(text)} must be <step>.(inputs|outputs)[.<tensor>] or "
            f"{pipeline}.inputs[.<tensor>]"
        )
    return Reference(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def _tensor_map(value: object, what: str) -> dict[str, str]:
    if value is None:
        return {}
    mapping = _mapping(value, what)
    if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in mapping.items()):
        raise PipelineError(f"{what} must map references to tensor names")
    return dict(mapping)


def _input(pipeline: str, value: object) -> PipelineInput | None:
    """`spec.input`: the outputs of one other pipeline (`externalInputs`), renamed by its
    `tensorMap`; joins over several pipelines' topics are not served."""
    if value is None:
        return None
    what = f"pipeline {pipeline!r} input"
    item = _mapping(value, what)
    unknown = sorted(set(item) - {"externalInputs", "tensorMap"})
    if unknown:
        raise PipelineError(f"{what}: {unknown[0]!r} is not served (externalInputs, tensorMap)")
    sources = item.get("externalInputs")
    if not isinstance(sources, list) or not sources:
        raise PipelineError(f"{what} externalInputs must be a non-empty list")
    references = [_external(text, f"{what} externalInputs") for text in sources]
    source = references[0].source
    if any(ref.source != source for ref in references):
        raise PipelineError(f"{what} externalInputs must all name one pipeline's outputs")
    if source == pipeline:
        raise PipelineError(f"{what} externalInputs cannot name the pipeline's own outputs")
    renames = {}
    for key, name in _tensor_map(item.get("tensorMap"), f"{what} tensorMap").items():
        ref = _external(key, f"{what} tensorMap key")
        if ref.source != source or ref.tensor is None:
            raise PipelineError(f"{what} tensorMap key {key!r} must be {source}.outputs.<tensor>")
        renames[ref.tensor] = name
    tensors = () if any(ref.tensor is None for ref in references) else references
    return PipelineInput(source, tuple(str(ref.tensor) for ref in tensors), renames)


def _external(text: object, what: str) -> Reference:
    parts = text.split(".") if isinstance(text, str) else []
    if len(parts) not in (2, 3) or parts[1] != OUTPUTS or not all(parts):
        raise PipelineError(f"{what} {_shown(text)} must be <pipeline>.outputs[.<tensor>]")
    return Reference(parts[0], OUTPUTS, parts[2] if len(parts) == 3 else None)


def _output(pipeline: str, value: object, steps: dict[str, Step]) -> Output:
    if value is None:
        if len(steps) > 1:
            raise PipelineError(f"multi step pipeline {pipeline!r} must specify output")
        (only,) = steps
        return Output((Reference(only, OUTPUTS),))
    item = _mapping(value, f"pipeline {pipeline!r} output")
    what = f"pipeline {pipeline!r} output"
    references = _references(pipeline, item.get("steps"), f"{what} step")
    if not references:
        raise PipelineError(f"pipeline {pipeline!r} must have a non empty output")
    window = item.get("joinWindowMs")
    return Output(
        references,
        _join(item.get("stepsJoin"), f"{what} stepsJoin"),
        _tensor_map(item.get("tensorMap"), f"{what} tensorMap"),
        None if window is None else _count(window, f"{what} joinWindowMs"),
    )
