"""The one status table, both directions, and the exception tree on top of it."""

from __future__ import annotations

import pytest

from app.protocol import errors
from app.protocol.errors import Status

TREE: list[tuple[type[errors.OIPError], Status]] = [
    (errors.OIPError, Status.INTERNAL),
    (errors.InvalidInput, Status.INVALID_ARGUMENT),
    (errors.NotFound, Status.NOT_FOUND),
    (errors.ModelNotFound, Status.NOT_FOUND),
    (errors.PayloadTooLarge, Status.RESOURCE_EXHAUSTED),
    (errors.Unavailable, Status.UNAVAILABLE),
    (errors.ServerNotReady, Status.UNAVAILABLE),
    (errors.ModelNotReady, Status.UNAVAILABLE),
    (errors.Unsupported, Status.UNIMPLEMENTED),
    (errors.DeadlineExceeded, Status.DEADLINE_EXCEEDED),
    (errors.PredictorError, Status.INTERNAL),
]


@pytest.mark.parametrize(("cls", "status"), TREE)
def test_each_error_has_its_status(cls: type[errors.OIPError], status: Status) -> None:
    error = cls("what went wrong")
    assert error.status is status
    assert error.message == "what went wrong"
    assert str(error) == "what went wrong"
    assert isinstance(error, errors.OIPError)


def test_status_codes() -> None:
    assert {status.name: (status.http, status.grpc) for status in Status} == {
        "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT"),
        "NOT_FOUND": (404, "NOT_FOUND"),
        "RESOURCE_EXHAUSTED": (413, "RESOURCE_EXHAUSTED"),
        "UNAVAILABLE": (503, "UNAVAILABLE"),
        "UNIMPLEMENTED": (501, "UNIMPLEMENTED"),
        "DEADLINE_EXCEEDED": (504, "DEADLINE_EXCEEDED"),
        "INTERNAL": (500, "INTERNAL"),
    }


@pytest.mark.parametrize("status", list(Status))
def test_status_round_trips_through_both_codes(status: Status) -> None:
    assert errors.status_for_http(status.http) is status
    assert errors.status_for_grpc(status.grpc) is status
    assert errors.error_class(status).status is status


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (422, Status.INVALID_ARGUMENT),
        (405, Status.INVALID_ARGUMENT),
        (418, Status.INVALID_ARGUMENT),
        (502, Status.INTERNAL),
        (302, Status.INTERNAL),
    ],
)
def test_unknown_http_codes_fall_back(code: int, status: Status) -> None:
    assert errors.status_for_http(code) is status


@pytest.mark.parametrize("name", ["UNKNOWN", "CANCELLED", "not a code"])
def test_unknown_grpc_codes_are_internal(name: str) -> None:
    assert errors.status_for_grpc(name) is Status.INTERNAL


def test_clients_raise_the_most_common_class() -> None:
    assert errors.error_class(Status.NOT_FOUND) is errors.ModelNotFound
    assert errors.error_class(Status.INVALID_ARGUMENT) is errors.InvalidInput
    assert errors.error_class(Status.UNAVAILABLE) is errors.Unavailable
    assert errors.error_class(Status.INTERNAL) is errors.PredictorError


def test_docstring_tree_matches_the_classes() -> None:
    doc = errors.__doc__ or ""
    for cls, status in TREE:
        line = next(line for line in doc.splitlines() if f" {cls.__name__} " in f" {line} ")
        assert f"{status.http} {status.grpc}" in line, line
