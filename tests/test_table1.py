"""The digits shipped for ``table1-ordering`` (theory/data/digits.npz): equal to scikit-learn's, loaded without it."""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest

from theory import table1


def test_shipped_digits_have_the_documented_shape_and_checksum():
    images, labels = table1.load_digits()
    assert images.dtype == np.uint8 and images.shape == (1797, 8, 8)
    assert labels.dtype == np.uint8 and labels.shape == (1797,)
    assert images.max() == 16 and set(np.unique(labels)) == set(range(10))
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    assert digest == "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"  # theory/data/README.md


def test_shipped_digits_equal_scikit_learn():
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()
    images, labels = table1.load_digits()
    np.testing.assert_array_equal(images, d.images)
    np.testing.assert_array_equal(labels, d.target)


def test_digits_load_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # any `import sklearn` now raises ImportError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    x, y = table1._digits(pixelwise=True, hold=4)
    assert x.shape == (1797, 256, 1) and x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(x[:, ::4, 0] * 16, table1.load_digits()[0].reshape(1797, 64))
    assert y.dtype == np.int64


def test_ordering_criterion_is_a_pooled_paired_t_test_with_every_map_ahead_on_average():
    direct = [0.40, 0.42, 0.38, 0.41]
    acc = {"softplus": [0.45, 0.47, 0.44, 0.46], "exp": [0.46, 0.45, 0.43, 0.47], "inverse": [0.44, 0.48, 0.42, 0.45],
           "direct": direct}
    o = table1.ordering(acc)
    assert o["passed"] and o["pooled"]["n"] == 4
    # the statistic is the one-sided paired t-test of the pooled gaps (scipy's, on the same numbers)
    stats = pytest.importorskip("scipy.stats")
    g = np.mean([100 * (np.array(acc[f]) - direct) for f in table1.STABLE], axis=0)
    ref = stats.ttest_1samp(g, 0.0, alternative="greater")
    assert o["pooled"]["t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert o["pooled"]["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    np.testing.assert_allclose(o["pooled"]["gaps"], g, rtol=1e-14)
    # the same mean gap with a large spread: the test does not reject
    noisy = {f: [0.45 + 0.3, 0.47 - 0.3, 0.44 + 0.25, 0.46 - 0.25] for f in table1.STABLE} | {"direct": direct}
    o = table1.ordering(noisy)
    assert o["pooled"]["mean"] > table1.FLOOR and o["pooled"]["p"] > table1.ALPHA and not o["passed"]
    # one stable map behind direct on average fails although the pooled test rejects
    behind = dict(acc, softplus=[0.61, 0.63, 0.59, 0.62], exp=[0.39, 0.41, 0.37, 0.40])
    o = table1.ordering(behind)
    assert o["pooled"]["p"] < table1.ALPHA and not o["exp"]["positive"] and not o["passed"]
    # a significant but tiny pooled gap (< FLOOR points) fails the practical floor
    tiny = {f: [d + 0.005 + 1e-4 * k for k, d in enumerate(direct)] for f in table1.STABLE} | {"direct": direct}
    o = table1.ordering(tiny)
    assert o["pooled"]["p"] < table1.ALPHA and o["pooled"]["mean"] < table1.FLOOR and not o["passed"]
    # ties (the untrained control: identical initial models) fail
    assert not table1.ordering({f: [0.3, 0.3, 0.3] for f in table1.FS})["passed"]
    # a pooled t-test needs two seeds
    with pytest.raises(ValueError, match="at least 2 seeds"):
        table1.ordering({f: [0.4] for f in table1.FS})


def test_pass_rates_resample_the_seeds():
    main = {"softplus": [0.5] * 6, "exp": [0.5] * 6, "inverse": [0.5] * 6,
            "direct": [0.40, 0.41, 0.42, 0.43, 0.44, 0.45]}
    ctrl = {f: [0.4] * 6 for f in table1.FS}
    assert table1.pass_rates(main, ctrl, 3, draws=200) == (1.0, 0.0)
    # a pass rate strictly between 0 and 1 when the seeds disagree
    mixed = dict(main, direct=[0.40, 0.41, 0.42, 0.43, 0.60, 0.62])
    pm, _ = table1.pass_rates(mixed, ctrl, 3, draws=400)
    assert 0.05 < pm < 0.95
