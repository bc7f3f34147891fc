"""One record through the DataPlane: the request it holds is answered by its route's
servable (or the one its `seldon-model` header names, as over REST and gRPC), and becomes
the records to send: the answer, or the error; before them, with step topics on, each
pipeline step's answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from app.context import KAFKA, REQUEST_ID, RequestContext, new_request_id, open_context
from app.dataplane import DataPlane
from app.kafka.records import (
    PIPELINE,
    Headers,
    Outgoing,
    RecordValue,
    answer_record,
    context_headers,
    encoding_of,
    error_record,
    header,
)
from app.kafka.routes import Route
from app.kafka.topics import INPUTS, OUTPUTS, Topics
from app.protocol.errors import InvalidInput, OIPError
from app.protocol.payload import Answer
from app.resolver import Kind, target_of


class Record(Protocol):
    """What the handler reads of a consumed record."""

    @property
    def topic(self) -> str: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Any: ...


class RecordHandler:
    """Answers records for the Kafka front."""

    def __init__(self, dataplane: DataPlane, topics: Topics, step_topics: bool = False) -> None:
        self.dataplane = dataplane
        self.topics = topics
        self.step_topics = step_topics

    async def answer(self, record: Record, route: Route) -> list[Outgoing]:
        """The records that answer `record` by `route`: step answers (if asked for), then
        the answer or the error."""
        headers: Headers = [(name, value or b"") for name, value in record.headers]
        value = record.value or b""
        context = open_context(KAFKA, context_headers(record.key, headers))
        request = RecordValue(value, encoding_of(value, headers), route.feed)
        target, outputs = route.target, route.outputs
        steps: list[Outgoing] = []
        try:
            if context.seldon_model is not None:
                target = target_of(target.name, None, context.seldon_model)
                outputs = self.topics.outputs(target)
            if target.kind is Kind.PIPELINE:
                self._check_pipeline(route, headers)
                headers = _with_pipeline(headers, target.name)
                if self.step_topics:
                    context.steps = self._step_reporter(
                        steps, record.key, headers, request, context
                    )
            answer = await self.dataplane.infer(target, request, context)
            sent = answer_record(
                outputs,
                record.key,
                request.answer(answer),
                headers,
                context.echo(),
                request.encoding,
            )
        except Exception as error:
            source = (error.source if isinstance(error, OIPError) else None) or target.name
            sent = error_record(
                self.topics.errors,
                record.key,
                headers,
                context.id or new_request_id(),
                source,
                _message(error),
            )
        return [*steps, sent]

    def fallback(self, topic: str) -> list[Route]:
        """The route of an inputs topic no longer read (its servable went away while its
        records waited): to the servable its name gives, which will say why it cannot
        answer. No route for an outputs topic (the pipeline it fed is gone)."""
        found = self.topics.target_of(topic)
        if found is None or found[1] != INPUTS:
            return []
        target, _ = found
        return [Route(target, self.topics.outputs(target))]

    def too_large(self, answer: Outgoing, error: Exception) -> Outgoing:
        """The error record of an answer the broker refused for its size."""
        headers = dict(answer.headers)
        request_id = headers.get(REQUEST_ID, answer.key).decode("utf-8", "replace")
        found = self.topics.target_of(answer.topic)
        source = found[0].name if found is not None else answer.topic
        message = f"the answer of {len(answer.value)} bytes is too large for the broker: {error}"
        return error_record(
            self.topics.errors, answer.key, answer.headers, request_id, source, message
        )

    def _check_pipeline(self, route: Route, headers: Headers) -> None:
        """A record on a pipeline's inputs topic may name its pipeline (Seldon's records
        do); one naming another is refused."""
        named = header(headers, PIPELINE)
        if route.feed is None and named is not None and named != route.target.name:
            raise InvalidInput(
                f"the record's {PIPELINE} header names {named!r}, but it was sent to the "
                f"inputs of pipeline {route.target.name!r}"
            )

    def _step_reporter(
        self,
        steps: list[Outgoing],
        key: bytes | None,
        headers: Headers,
        request: RecordValue,
        context: RequestContext,
    ) -> Callable[[str, Answer], None]:
        def report(step: str, answer: Answer) -> None:
            answer.id = context.id
            topic = self.topics.of(Kind.MODEL, step, OUTPUTS)
            value = request.answer(answer)
            steps.append(
                answer_record(topic, key, value, headers, context.echo(), request.encoding)
            )

        return report


def _with_pipeline(headers: Headers, name: str) -> Headers:
    kept = [(key, value) for key, value in headers if key.lower() != PIPELINE]
    return [*kept, (PIPELINE, name.encode())]


def _message(error: Exception) -> str:
    if isinstance(error, OIPError):
        return error.message
    return f"{type(error).__name__}: {error}"
