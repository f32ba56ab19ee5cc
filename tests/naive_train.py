"""Slow plain-Python references for training and reparameterisation (nothing shared with rnnmem)."""

from __future__ import annotations

import math

import numpy as np


def adam_steps(theta0, grads, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0):
    """Adam/AdamW written element by element from Kingma & Ba (2015), Algorithm 1, with decoupled decay.

    ``grads`` is a list of gradient arrays (one per step). Returns the parameter after every step.
    """
    theta = np.array(theta0, dtype=float).ravel().tolist()
    m = [0.0] * len(theta)
    v = [0.0] * len(theta)
    out = []
    for t, g in enumerate(grads, start=1):
        g = np.asarray(g, dtype=float).ravel().tolist()
        for i in range(len(theta)):
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            mhat = m[i] / (1 - b1**t)
            vhat = v[i] / (1 - b2**t)
            theta[i] = theta[i] - lr * (mhat / (math.sqrt(vhat) + eps) + wd * theta[i])
        out.append(np.array(theta).reshape(np.shape(theta0)))
    return out


def sgd_steps(theta0, grads, lr, momentum=0.0, wd=0.0):
    """Heavy-ball SGD as in PyTorch (buffer = g at the first step, then μ·buffer + g)."""
    theta = np.array(theta0, dtype=float)
    buf = None
    out = []
    for g in grads:
        g = np.asarray(g, dtype=float) + wd * theta
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + g
            g = buf
        theta = theta - lr * g
        out.append(theta.copy())
    return out


def effective_W(w, P, name, a=1.0, b=0.5):
    """W = −Pᵀ diag(f(w)) P by explicit sums (P = None: −diag(f(w)))."""
    fs = {
        "direct": lambda s: s,
        "exp": math.exp,
        "softplus": lambda s: math.log1p(math.exp(s)) if s < 30 else s + math.log1p(math.exp(-s)),
        "best": lambda s: 1.0 / (a * s * s + b),
        "inverse": lambda s: 1.0 / s,
    }
    f = [fs[name](float(s)) for s in w]
    m = len(w)
    W = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            if P is None:
                W[i, j] = -f[i] if i == j else 0.0
            else:
                W[i, j] = -sum(P[k, i] * f[k] * P[k, j] for k in range(m))
    return W


def adam_bound(theta0, grads, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0):
    """Bound on |computed − exact| of the parameters after every Adam step, for any evaluation of the formulas of
    :func:`adam_steps` (element-wise; a running error analysis, tests/naive.py's model): the moment updates
    m = b1 m + (1 − b1) g (which may cancel: its error is carried, not relative), v (positive terms), the bias
    corrections 1 − b^t (a pow and a difference), the ratio m̂/(√v̂ + ε) (its error divided by √v̂ + ε >= ε), and
    the update θ − lr(ratio + wd θ)."""
    import naive

    r = naive.rounding
    th = np.abs(np.array(theta0, dtype=float))
    m = np.zeros_like(th)
    v = np.zeros_like(th)
    Em = np.zeros_like(th)
    Ev = np.zeros_like(th)
    Eth = np.zeros_like(th)
    out = []
    for t, g in enumerate(grads, start=1):
        g = np.abs(np.asarray(g, dtype=float))
        Em = b1 * Em + r(3, b1 * m + (1 - b1) * g)
        m = b1 * m + (1 - b1) * g  # magnitudes (|m| <= this)
        Ev = b2 * Ev + r(4, b2 * v + (1 - b2) * g * g)
        v = b2 * v + (1 - b2) * g * g
        c1, c2 = 1 - b1**t, 1 - b2**t
        dc1, dc2 = r(2, 1.0) / c1, r(2, 1.0) / c2  # relative errors of the bias corrections (b^t near 1: 1/c)
        den = np.sqrt(v / c2) + eps  # >= the true √v̂ + ε up to its rounding; the ratio's denominator
        Eden = 0.5 * np.sqrt(v / c2) * (Ev / np.maximum(v, 1e-300) + dc2) + r(3, den)
        ratio = (m / c1) / den
        Eratio = (Em / c1 + m / c1 * dc1) / den + ratio * Eden / den + r(4, ratio)
        Eth = Eth * (1 + lr * wd) + lr * Eratio + r(4, th + lr * (ratio + wd * th))
        th = th + lr * (ratio + wd * th)  # a magnitude: |θ| grows by at most this
        out.append(Eth.copy())
    return out
