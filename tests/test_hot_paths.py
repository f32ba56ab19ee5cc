"""Fast paths of the library against slow references: linear outputs by FFT (RNN.convolve), the baby-step
giant-step Markov parameters, the fused Krylov kernel and the gradient descent of the NTK module that uses it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rnnmem as rm
from rnnmem import _kernels_linear as KL
from rnnmem import ntk
from rnnmem.rnn import _markov_bsgs

EPS = np.finfo(float).eps


# ----------------------------------------------------------------------------------------------- RNN.convolve
def convolve_tolerance(model, x):
    """Error model of y = L ∗ x + y^b by FFT against the recurrence (both norm-wise): an FFT convolution of length N
    has absolute error ≲ ε log₂N Σ_j|L_j| max|x| per output; the bias response is a cumulative sum of T terms and the
    recurrence accumulates its own roundings step by step (≲ ε T times the same scale). Safety factor 16."""
    T = x.shape[1]
    L = model.markov(T)  # the sequential kernel: an independent computation of the same parameters
    Lb = model.replace(U=model.b[:, None], D=None).markov(T)[:, :, 0]
    scale = model.inputs * np.abs(L).max(axis=(1, 2)).sum() * np.abs(x).max() + np.abs(Lb).sum(axis=0).max()
    return 16.0 * EPS * (math.log2(2 * T) + T) * scale


@pytest.mark.parametrize("cell", rm.rnn.CELLS)
@pytest.mark.parametrize(("m", "d", "p", "B", "T"), [(1, 1, 1, 1, 1), (5, 2, 3, 3, 257), (24, 1, 2, 2, 3000)])
def test_convolve_equals_the_recurrence(cell, m, d, p, B, T):
    model = rm.RNN.random(m, d, p, cell=cell, activation="linear", dt=0.3, sigma2=0.64, bias=0.5, feedthrough=True,
                          rng=m + T)
    x = np.random.default_rng(T).normal(size=(B, T, d))
    y = model(x)
    got = model.convolve(x)
    assert got.shape == y.shape
    assert np.abs(got - y).max() <= convolve_tolerance(model, x)
    np.testing.assert_array_equal(model.convolve(x[0]), got[0])  # a 2-D input gives (T, p)


def test_convolve_tolerance_catches_a_wrong_kernel(monkeypatch):
    """Mutation: Markov parameters off by a relative 1e-9 fail the error model."""
    from rnnmem import rnn as rnn_module

    model = rm.RNN.random(8, 1, 1, activation="linear", sigma2=0.64, bias=0.3, rng=0)
    x = np.random.default_rng(1).normal(size=(2, 500, 1))
    real = rnn_module._markov_bsgs
    monkeypatch.setattr(rnn_module, "_markov_bsgs", lambda *a: real(*a) * (1 + 1e-9))
    assert np.abs(model.convolve(x) - model(x)).max() > convolve_tolerance(model, x)


def test_convolve_errors():
    x = np.ones((1, 10, 1))
    with pytest.raises(ValueError, match="activation='linear'"):
        rm.RNN.random(3, rng=0).convolve(x)
    unstable = rm.RNN(np.array([[1.5]]), np.ones((1, 1)), np.zeros(1), np.ones((1, 1)), activation="linear")
    with pytest.raises(rm.NonFiniteError, match="unstable"):
        unstable.convolve(np.ones((1, 3000, 1)))
    with pytest.raises(ValueError, match="input feature"):
        rm.RNN.random(3, 2, activation="linear", rng=0).convolve(x)


@pytest.mark.parametrize(("m", "d", "p", "T"), [(1, 1, 1, 1), (3, 2, 1, 2), (6, 1, 3, 17), (10, 3, 2, 1000)])
def test_markov_bsgs_equals_successive_powers(m, d, p, T):
    """C A^j U by baby and giant steps against successive products. Error model: each computes C A^j U with
    O((j + log T) m) roundings of products bounded by ‖C‖ ‖A‖^j ‖U‖ (spectral norms); factor 8."""
    rng = np.random.default_rng(m * T)
    A = 0.9 * rng.normal(size=(m, m)) / np.sqrt(m)
    U, C = rng.normal(size=(m, d)), rng.normal(size=(p, m))
    got = _markov_bsgs(A, U, C, T)
    ref = np.empty((T, p, d))
    v = U.copy()
    for j in range(T):
        ref[j] = C @ v
        v = A @ v
    a = np.linalg.norm(A, 2)
    bound = [8 * EPS * (j + 2 + math.log2(T + 1)) * m * np.linalg.norm(C, 2) * a**j * np.linalg.norm(U, 2)
             for j in range(T)]
    assert np.all(np.abs(got - ref).max(axis=(1, 2)) <= bound)


# ----------------------------------------------------------------------------------------------- NTK fast paths
@pytest.mark.parametrize("n", [1, 3, 4, 9, 130])
def test_krylov_pair_equals_matrix_vector_products(n):
    """Ku[k] = W^k u, Kc[k] = (Wᵀ)^k c with the error bound of the recursion itself: e_k ≤ |W| e_{k-1} + γ_n |W||v|
    (elementwise, γ_n = n ε/(1 − n ε)), computed alongside."""
    rng = np.random.default_rng(n)
    W = rng.normal(size=(n, n)) / np.sqrt(n)
    u, c = rng.normal(size=n), rng.normal(size=n)
    K = 7
    Ku, Kc = np.empty((K, n)), np.empty((K, n))
    KL.krylov_pair(W, u, c, Ku, Kc)
    g = n * EPS / (1 - n * EPS)
    for M, v0, out in ((W, u, Ku), (W.T, c, Kc)):
        v, err = v0.copy(), np.zeros(n)
        for k in range(K):
            assert np.all(np.abs(out[k] - v) <= 2 * err + 1e-300), k
            err = np.abs(M) @ err + g * (np.abs(M) @ np.abs(v))
            v = M @ v


def _gd_reference(model, X, y, lr, steps):
    """The NTK gradient descent written with successive matrix-vector products and the explicit ∇_W (n × n)."""
    n = model.hidden
    W, U, C = model.W.copy(), model.U.copy(), model.C.copy()
    N, J = X.shape
    aW, aU, aC = lr / n, lr, lr / n  # "ntk" parameterisation, unit multipliers
    losses = []
    for t in range(steps + 1):
        Ku, Kc = np.empty((J, n)), np.empty((J, n))
        Ku[0], Kc[0] = U, C
        for k in range(1, J):
            Ku[k], Kc[k] = W @ Ku[k - 1], W.T @ Kc[k - 1]
        L = Ku @ C
        res = X @ L - y
        losses.append(res @ res / N)
        if t == steps:
            break
        g = (2.0 / N) * (X.T @ res)
        gW = sum(g[a + b + 1] * np.outer(Kc[a], Ku[b]) for a in range(J - 1) for b in range(J - 1) if a + b + 1 < J)
        W, U, C = W - aW * gW, U - aU * (g @ Kc), C - aC * (g @ Ku)
    return W, U, C, np.array(losses)


def test_ntk_gd_unchanged():
    """ntk.gd (fused Krylov pass, in-place update) against the plain formulas. Error model: O(n J ε)
    relative rounding per step, accumulated over the steps; safety factor 100."""
    n, J, N, steps = 48, 6, 10, 15
    model = ntk.init(n, 0.8, rng=0)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(N, J))
    y = X @ (0.7 ** np.arange(J))
    lr = ntk.stable_lr(X, ntk.lag_weights(J, 0.8), 0.5)
    res = ntk.gd(model, X, y, lr=lr, steps=steps)
    W, U, C, losses = _gd_reference(model, X, y, lr, steps)
    tol = 100 * n * J * EPS * (steps + 1)
    for got, want in ((res.model.W, W), (res.model.U, U), (res.model.C, C)):
        assert np.abs(got - want).max() <= tol * np.abs(want).max()
    assert np.allclose(res.train_loss, losses, rtol=tol, atol=0)
