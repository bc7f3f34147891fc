"""Which topics the front reads, and where each one's records go: the inputs topic of every
servable that answers (an explainer's also under kind `model`, as Seldon names it), and the
outputs topic of a pipeline whose answers feed another (`spec.input`)."""

from __future__ import annotations

from typing import NamedTuple

from app.dataplane import DataPlane
from app.kafka.topics import OUTPUTS, Topics
from app.pipelines.spec import PipelineInput
from app.resolver import Kind, Target


class Route(NamedTuple):
    """Where the records of a topic go: the servable that answers them and the topic its
    answers go to; `feed` when the records are another pipeline's answers."""

    target: Target
    outputs: str
    feed: PipelineInput | None = None


Routes = dict[str, list[Route]]
"""The routes of each topic read."""


class Served(NamedTuple):
    target: Target
    feed: PipelineInput | None = None


def serving(dataplane: DataPlane) -> list[Served]:
    """Each servable that answers now, with what feeds it (a pipeline's `spec.input`)."""
    return [
        Served(target, dataplane.pipeline_input(target.name))
        if target.kind is Kind.PIPELINE
        else Served(target)
        for target in dataplane.serving_targets()
    ]


def routes(served: list[Served], topics: Topics) -> Routes:
    """The topics to read for the servables `served`, and their routes."""
    found: Routes = {}
    for target, feed in served:
        outputs = topics.outputs(target)
        found.setdefault(topics.inputs(target), []).append(Route(target, outputs))
        if target.kind is Kind.EXPLAINER:
            topic = topics.of(Kind.MODEL, target.name, "inputs")
            found.setdefault(topic, []).append(
                Route(target, topics.of(Kind.MODEL, target.name, OUTPUTS))
            )
        if feed is not None:
            topic = topics.of(Kind.PIPELINE, feed.source, OUTPUTS)
            found.setdefault(topic, []).append(Route(target, outputs, feed))
    return found
