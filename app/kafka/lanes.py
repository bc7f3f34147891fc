"""One partition's records on their way through the front: taken in order of offsets, at
most `limit` answered at once (by as many workers), and the offset to commit, which never
passes a record that is not finished (at-least-once: after a crash, the broker gives what was
unfinished again)."""

from __future__ import annotations

from collections import deque
from typing import Generic, Protocol, TypeVar


class HasOffset(Protocol):
    @property
    def offset(self) -> int: ...


R = TypeVar("R", bound=HasOffset)


class Lane(Generic[R]):
    """The records of one partition: waiting, running, and where to commit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.waiting: deque[R] = deque()
        self.running: set[int] = set()
        """The offsets of the records started and not finished."""
        self.end: int | None = None
        """The offset after the last record taken."""
        self.committed: int | None = None
        """The offset last committed."""
        self.workers = 0
        """The workers taking this lane's records: counted from `hire` until `take` finds
        none for them (then they end, with no await in between)."""

    def add(self, record: R) -> None:
        """Take a record (in order of offsets); it waits until a worker takes it."""
        self.waiting.append(record)
        self.end = record.offset + 1

    def hire(self) -> int:
        """How many more workers the waiting records need (at most `limit` at once); they
        count as working from now on."""
        wanted = max(0, min(self.limit, len(self.waiting)) - self.workers)
        self.workers += wanted
        return wanted

    def take(self) -> R | None:
        """The next waiting record, running from now on; None when none waits, and the
        worker that asked no longer counts (a record added later gets a new one)."""
        if not self.waiting:
            self.workers = max(0, self.workers - 1)
            return None
        record = self.waiting.popleft()
        self.running.add(record.offset)
        return record

    def close(self) -> None:
        """Take no more: what waits is left to the partition's next reader (the position
        stays before it)."""
        if self.waiting:
            self.end = self.waiting[0].offset
            self.waiting.clear()

    def finish(self, offset: int) -> None:
        """The record at `offset` was answered (and its answer acknowledged)."""
        self.running.discard(offset)

    @property
    def busy(self) -> bool:
        """Whether records are waiting or running."""
        return bool(self.waiting or self.running)

    def position(self) -> int | None:
        """The offset to commit: that of the first record not finished (None: none taken)."""
        if self.running:
            return min(self.running)
        if self.waiting:
            return self.waiting[0].offset
        return self.end

    def to_commit(self) -> int | None:
        """The position, if it moved since the last commit."""
        position = self.position()
        return None if position is None or position == self.committed else position
