"""The bad shapes of the table of bad requests (`tests.bad_requests`): shapes numpy cannot
hold (too many dimensions, dimensions beyond 64 bits, too many elements even when empty),
integers beyond 64 bits in JSON, and nested data that does not match its shape."""

from __future__ import annotations

import orjson

from tests.request_forms import ABSURD, BadRequest, both, raw, rest_only, tensor

BYTES = {"name": "x", "datatype": "BYTES", "shape": [1], "data": ["a"]}
_EMPTY_TOO_LARGE = [([0, 2**63 - 1], 2**63 - 1), ([0, 2**62, 2**62], 2**124), ([2**61, 0], 2**61)]


def _too_many(name: str = "input-0") -> str:
    return f"input {name!r}: shape has 65 dimensions, at most 64 are supported"


def _too_large(shape: list[int], product: int, name: str = "input-0") -> str:
    return (
        f"input {name!r}: shape {shape} is too large: its non-zero dimensions multiply to "
        f"{product}, at most 1152921504606846975 are supported"
    )


def _input_json(rest: str) -> bytes:
    """A body with one input 'input-0' of datatype `rest...`, in JSON written by hand (for
    integers beyond 64 bits, which orjson does not write)."""
    return ('{"inputs": [{"name": "input-0", "datatype": ' + rest + "}]}").encode()


SHAPE_CASES: list[BadRequest] = [
    both("absurd dimensions", _too_large(ABSURD, 2**80), [tensor(shape=ABSURD)]),
    raw("absurd raw dimensions", _too_large(ABSURD, 2**80), [tensor(shape=ABSURD)], [b"\0" * 16]),
    both("too many dimensions", _too_many(), [tensor(shape=[1] * 65, data=[1.0])]),
    both(
        "too many BYTES dimensions",
        _too_many("x"),
        [{**BYTES, "shape": [1] * 65}],
        model="echo",
    ),
    raw("too many raw dimensions", _too_many(), [tensor(shape=[1] * 65)], [b"\0" * 4]),
    *(
        both(
            f"empty but too large {shape}",
            _too_large(shape, product),
            [tensor(shape=shape, data=[])],
        )
        for shape, product in _EMPTY_TOO_LARGE
    ),
    *(
        raw(
            f"empty raw but too large {shape}",
            _too_large(shape, product),
            [tensor(shape=shape)],
            [b""],
        )
        for shape, product in _EMPTY_TOO_LARGE
    ),
    both(
        "empty BYTES but too large",
        _too_large([0, 2**63 - 1], 2**63 - 1, "x"),
        [{**BYTES, "shape": [0, 2**63 - 1], "data": []}],
        model="echo",
    ),
    rest_only(
        "dimension beyond int64",
        "input 'input-0': shape [9223372036854775808] has a dimension too large for 64 bits "
        "(at most 9223372036854775807)",
        orjson.dumps({"inputs": [tensor(shape=[2**63], data=[])]}),
    ),
    rest_only(
        "dimension beyond 64 bits",
        "input 'input-0': shape [1e+30] has a dimension too large for 64 bits "
        "(at most 9223372036854775807)",
        _input_json('"FP32", "shape": [1000000000000000000000000000000], "data": []'),
    ),
    rest_only(
        "integer beyond 64 bits",
        "input 'input-0': values from 1e+29 to 1e+29 are out of range for INT8 [-128, 127]",
        _input_json('"INT8", "shape": [1], "data": [100000000000000000000000000000]'),
    ),
    rest_only(
        "nested BYTES of another shape",
        "input 'x': nested data of shape [2, 2] does not match shape [4]",
        orjson.dumps({"inputs": [{**BYTES, "shape": [4], "data": [["a", "b"], ["c", "d"]]}]}),
    ),
    rest_only(
        "ragged BYTES",
        "input 'x': data is ragged or holds values of mixed kinds",
        orjson.dumps({"inputs": [{**BYTES, "shape": [3], "data": [["a", "b"], ["c"]]}]}),
    ),
]
