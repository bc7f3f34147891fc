"""Triton-style inference statistics of one model version, accumulated per request.

success / fail: count and total time of answered and failed requests, arrival to answer;
compute_input: arrival until the predictor starts (decoding and checks); compute_infer: the
predictor; compute_output: the predictor's end until the answer is encoded; queue: time
waiting in an adaptive batch before it ran; batch_stats: the runs of each batch size."""

from __future__ import annotations

import time

from app.protocol.types import (
    InferBatchStatistics,
    InferStatistics,
    ModelStatistics,
    StatisticDuration,
)


class VersionStats:
    """Plain counters, updated on the event loop (no locks needed)."""

    __slots__ = (
        "batches",
        "executions",
        "fail",
        "fail_ns",
        "infer_ns",
        "inference_count",
        "input_ns",
        "last_ended",
        "output_ns",
        "queue_ns",
        "success",
        "success_ns",
    )

    def __init__(self) -> None:
        self.success = self.success_ns = self.fail = self.fail_ns = 0
        self.input_ns = self.infer_ns = self.output_ns = 0
        self.inference_count = self.executions = self.queue_ns = 0
        self.batches: dict[int, list[int]] = {}
        """Per batch size run by adaptive batching: [executions, ns in the model]."""
        self.last_ended = 0
        """The perf_counter_ns() at which the last success ended (0: none yet)."""

    def record_success(
        self,
        started: int,
        infer_started: int,
        infer_ended: int,
        ended: int,
        batch: int,
        queued: int = 0,
        batched: bool = False,
    ) -> None:
        """A request answered; one execution of the model unless it ran in a batch (the
        batch counts its own, `record_batch`)."""
        self.success += 1
        self.queue_ns += queued
        if not batched:
            self.executions += 1
        self.success_ns += ended - started
        self.input_ns += infer_started - started
        self.infer_ns += infer_ended - infer_started
        self.output_ns += ended - infer_ended
        self.inference_count += batch
        self.last_ended = ended  # the clock read once per request; wall time on report

    def record_batch(self, size: int, ns: int) -> None:
        """One run of the model on a batch of `size` rows, taking `ns`."""
        self.executions += 1
        counts = self.batches.setdefault(size, [0, 0])
        counts[0] += 1
        counts[1] += ns

    def record_failure(self, started: int, ended: int) -> None:
        self.fail += 1
        self.fail_ns += ended - started

    @property
    def last_inference(self) -> int:
        """When the last success ended, in milliseconds since the epoch (0: none yet)."""
        if not self.last_ended:
            return 0
        return (time.time_ns() - (time.perf_counter_ns() - self.last_ended)) // 1_000_000

    def report(self, name: str, version: str) -> ModelStatistics:
        """The statistics extension's message for this version."""
        count = self.success
        return ModelStatistics(
            name=name,
            version=version,
            last_inference=self.last_inference,
            inference_count=self.inference_count,
            execution_count=self.executions,
            inference_stats=InferStatistics(
                success=StatisticDuration(count=count, ns=self.success_ns),
                fail=StatisticDuration(count=self.fail, ns=self.fail_ns),
                queue=StatisticDuration(count=count, ns=self.queue_ns),
                compute_input=StatisticDuration(count=count, ns=self.input_ns),
                compute_infer=StatisticDuration(count=count, ns=self.infer_ns),
                compute_output=StatisticDuration(count=count, ns=self.output_ns),
                cache_hit=StatisticDuration(),
                cache_miss=StatisticDuration(),
            ),
            batch_stats=[
                InferBatchStatistics(
                    batch_size=size,
                    compute_input=StatisticDuration(count=runs),
                    compute_infer=StatisticDuration(count=runs, ns=ns),
                    compute_output=StatisticDuration(count=runs),
                )
                for size, (runs, ns) in sorted(self.batches.items())
            ],
        )


def merged(reports: list[ModelStatistics]) -> ModelStatistics:
    """One version's statistics as several processes (workers) report them: counts and times
    summed, the last inference the latest."""
    first = reports[0]
    stats = first.inference_stats
    durations = {
        field: StatisticDuration(
            count=sum(getattr(r.inference_stats, field).count for r in reports),
            ns=sum(getattr(r.inference_stats, field).ns for r in reports),
        )
        for field in type(stats).model_fields
    }
    batches: dict[int, list[InferBatchStatistics]] = {}
    for report in reports:
        for batch in report.batch_stats:
            batches.setdefault(batch.batch_size, []).append(batch)
    return ModelStatistics(
        name=first.name,
        version=first.version,
        last_inference=max(r.last_inference for r in reports),
        inference_count=sum(r.inference_count for r in reports),
        execution_count=sum(r.execution_count for r in reports),
        inference_stats=InferStatistics(**durations),
        batch_stats=[
            InferBatchStatistics(
                batch_size=size,
                compute_input=_summed([b.compute_input for b in same]),
                compute_infer=_summed([b.compute_infer for b in same]),
                compute_output=_summed([b.compute_output for b in same]),
            )
            for size, same in sorted(batches.items())
        ],
    )


def _summed(durations: list[StatisticDuration]) -> StatisticDuration:
    return StatisticDuration(count=sum(d.count for d in durations), ns=sum(d.ns for d in durations))
