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
