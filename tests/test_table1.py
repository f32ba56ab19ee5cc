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


def test_ordering_criterion_needs_every_seed_and_a_noise_margin():
    acc = {"softplus": [0.5, 0.5, 0.5], "exp": [0.5, 0.5, 0.5], "inverse": [0.5, 0.5, 0.5],
           "direct": [0.4, 0.4, 0.4]}
    # constant gaps: zero noise, any positive gap passes
    assert table1.ordering(acc)["passed"]
    # one seed where direct wins: fails although the mean gap is positive
    acc2 = dict(acc, exp=[0.6, 0.6, 0.39])
    o = table1.ordering(acc2)
    assert not o["passed"] and not o["exp"]["all_seeds"] and o["exp"]["mean"] > 0
    # positive in every seed but mean within 2 standard errors: fails on the margin
    acc3 = dict(acc, inverse=[0.401, 0.45, 0.55])
    o = table1.ordering(acc3)
    assert o["inverse"]["all_seeds"] and not o["inverse"]["margin"] and not o["passed"]
    # ties (the untrained control: identical initial models) fail
    assert not table1.ordering({f: [0.3, 0.3, 0.3] for f in table1.FS})["passed"]
    # one seed (--quick): a fixed margin of QUICK_MARGIN points
    one = {"softplus": [0.43], "exp": [0.43], "inverse": [0.43], "direct": [0.42]}
    assert not table1.ordering(one)["passed"]
    one["direct"] = [0.40]
    assert table1.ordering(one)["passed"]
