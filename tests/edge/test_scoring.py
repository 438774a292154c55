"""edge.scoring's percentile: the one definition (numpy's default, linear between ranks)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.scoring import percentile


@pytest.mark.parametrize("q", [0, 25, 50, 95, 99, 100])
def test_percentile_is_numpys_linear_default(q: float) -> None:
    values = np.random.default_rng(0).exponential(size=101).tolist()
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_keeps_an_exact_rank_and_refuses_no_values() -> None:
    assert percentile([3, 1, 2], 50) == 2 and isinstance(percentile([3, 1, 2], 50), int)
    assert percentile([1, 2], 50) == 1.5
    with pytest.raises(ValueError):
        percentile([], 95)
