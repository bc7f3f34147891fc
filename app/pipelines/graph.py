"""The step graph of a pipeline: which steps read each step, which come after it, which its
answer can make ready (what the executor looks at); and the checks on the graph, in Seldon's
order."""

from __future__ import annotations

from app.pipelines.spec import INPUTS, OUTPUTS, Join, PipelineError, PipelineSpec, Step

Graph = dict[str, tuple[str, ...]]


def check_graph(pipeline: PipelineSpec) -> None:
    """PipelineError for the first problem, in Seldon's order: a reference to a step that
    does not exist, a cycle without allowCycles, a reference in both inputs and triggers."""
    _check_references(pipeline)
    if not pipeline.allow_cycles:
        _check_acyclic(pipeline)
    _check_triggers_differ(pipeline)


def _check_references(pipeline: PipelineSpec) -> None:
    """Every step an input or trigger names exists (or is the pipeline), and so does every
    output step."""
    for step in pipeline.steps.values():
        for ref in (*step.inputs, *step.triggers):
            if ref.source not in pipeline.steps and ref.source != pipeline.name:
                raise PipelineError(
                    f"pipeline {pipeline.name!r} step {step.name!r} has input {str(ref)!r} "
                    f"for step {ref.source!r}, which does not exist"
                )
            if ref.source == pipeline.name and ref.side == OUTPUTS:
                raise PipelineError(
                    f"pipeline {pipeline.name!r} step {step.name!r} has input {str(ref)!r}: "
                    "a pipeline's outputs are what its steps answer"
                )
    for ref in pipeline.output.steps:
        if ref.source not in pipeline.steps:
            raise PipelineError(f"pipeline {pipeline.name!r} output step {ref.source!r} not found")


def graph(pipeline: str, steps: dict[str, Step]) -> tuple[Graph, Graph, Graph, Graph]:
    """The readers, watchers, downstream and woken steps of each step (see PipelineSpec)."""

    def readers_of(source: str, sides: tuple[str, ...] = (INPUTS, OUTPUTS)) -> tuple[str, ...]:
        return tuple(
            name
            for name, step in steps.items()
            if any(
                ref.source == source and ref.side in sides for ref in (*step.inputs, *step.triggers)
            )
        )

    readers = {source: readers_of(source) for source in (pipeline, *steps)}
    watchers = {source: readers_of(source, (INPUTS,)) for source in steps}
    downstream: dict[str, tuple[str, ...]] = {}
    for name in steps:
        reached: set[str] = set()
        todo = [name]
        while todo:
            for later in set(readers[todo.pop()]) - reached:
                reached.add(later)
                todo.append(later)
        downstream[name] = tuple(step for step in steps if step in reached)
    outer = {
        name for name, step in steps.items() if Join.OUTER in (step.inputs_join, step.triggers_join)
    }
    woken = {
        name: tuple(step for step in later if step in readers[name] or step in outer)
        for name, later in downstream.items()
    }
    return readers, watchers, downstream, woken


def _check_acyclic(pipeline: PipelineSpec) -> None:
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = " -> ".join([*trail[trail.index(name) :], name])
            raise PipelineError(
                f"pipeline {pipeline.name!r} has a cycle ({cycle}); allowCycles permits one"
            )
        if name in done:
            return
        for before in sorted(pipeline.steps[name].upstream):
            visit(before, [*trail, name])
        done.add(name)

    for name in pipeline.steps:
        visit(name, [])


def _check_triggers_differ(pipeline: PipelineSpec) -> None:
    for step in pipeline.steps.values():
        for ref in step.triggers:
            if ref in step.inputs:
                raise PipelineError(
                    f"pipeline {pipeline.name!r} step {step.name!r}: inputs and triggers must "
                    f"differ, but {str(ref)!r} is in both"
                )
