"""The explainer bench explains ten iris rows with each method, checking the answer's
shape before it times them."""

from __future__ import annotations

import pytest

from tests.process import python


@pytest.mark.parametrize("method", ["occlusion", "kernel_shap"])
def test_the_bench_explains_ten_rows(method: str) -> None:
    printed = python("-m", "bench.explain", "--explanations", "2", "--method", method)
    assert printed.startswith(f"{method}: 10 iris rows explained in ")
    assert printed.rstrip().endswith("(median of 2; attributions [10, 4, 3])")
