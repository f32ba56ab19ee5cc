"""The sunspot series shipped in theory/data (p2-bias-variance) is statsmodels' data set, loaded without statsmodels."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from theory import p2


def test_shipped_sunspots_load_without_statsmodels(monkeypatch):
    monkeypatch.setitem(sys.modules, "statsmodels", None)  # any import of statsmodels now raises ImportError
    monkeypatch.setitem(sys.modules, "statsmodels.api", None)
    year, s = p2.load_sunspots()
    assert year.dtype == np.int64 and s.dtype == np.float64
    assert year[0] == 1700 and year[-1] == 2008 and np.all(np.diff(year) == 1)
    assert s.shape == (309,) and np.all(np.isfinite(s)) and s.min() >= 0


def test_shipped_sunspots_equal_statsmodels_data():
    sm = pytest.importorskip("statsmodels.api")
    df = sm.datasets.sunspots.load_pandas().data
    year, s = p2.load_sunspots()
    np.testing.assert_array_equal(year, df["YEAR"].to_numpy())
    np.testing.assert_array_equal(s, df["SUNACTIVITY"].to_numpy(dtype=float))
