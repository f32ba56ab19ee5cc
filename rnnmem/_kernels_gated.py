"""Numba kernels of the torch-layout recurrent layers (private: no validation, explicit outputs, plain loops).

One layer of ``torch.nn.RNN`` (elman), ``torch.nn.GRU`` or ``torch.nn.LSTM`` with hidden width H and G = gates·H
pre-activations (gates = 1, 3, 4). The input part of every step, ``gi_k = W_ih x_k + b_ih`` (G,), is one matrix
product done beforehand by the caller; the kernels run the sequential part with the recurrent product
``gh = W_hh h_{k-1} + b_hh`` (G,) per step. Storage is time-major: (T, N, ·) with N rows (batch).

Forward (torch's equations and gate order; σ the logistic function, ⊙ element-wise):

* elman: h_k = act(gi_k + gh), act = tanh or relu. Saved: ``aux`` = act'(z_k).
* GRU (r, z, n): r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n), h_k = (1 − z) ⊙ n + z ⊙ h_{k-1}.
  Saved: r, z, n written over ``gi`` (in place), ``aux`` = gh_n.
* LSTM (i, f, g, o): i, f, o = σ(·), g = tanh(·) of gi + gh; c_k = f ⊙ c_{k-1} + i ⊙ g, h_k = o ⊙ tanh(c_k).
  Saved: i, f, g, o written over ``gi``, ``aux`` = c_k, ``aux2`` = tanh(c_k).

Backward (BPTT), for the total gradient g_k = ∂L/∂h_k = dh_k + (carry from step k+1):

* elman: δ_k = act'(z_k) ⊙ g_k; carry = W_hhᵀ δ_k.
* GRU: dn = g(1 − z), dz = g(h_{k-1} − n), δn = dn(1 − n²), δr = δn·gh_n·r(1 − r), δz = dz·z(1 − z);
  ∂L/∂gi = (δr, δz, δn), ∂L/∂gh = (δr, δz, r ⊙ δn) (its n part is stored in ``dghn``); carry = g ⊙ z + W_hhᵀ ∂L/∂gh.
* LSTM: with the cell carry γ (∂L/∂c_k from step k+1): dc = γ + g ⊙ o ⊙ (1 − tanh² c_k) (tanh c_k saved);
  ∂L/∂(i, f, g, o) pre-activations = (dc·g·i(1−i), dc·c_{k-1}·f(1−f), dc·i·(1−g²), g·tanh(c_k)·o(1−o));
  γ ← dc ⊙ f; carry = W_hhᵀ ∂L/∂gates.

The caller turns ∂L/∂gi and ∂L/∂gh into the weight gradients by single matrix products (∂W_ih = Σ_k δ_k x_kᵀ,
∂W_hh = Σ_k δh_k h_{k-1}ᵀ, biases = sums) and the input gradient of the layer below (W_ihᵀ δ_k).

Two kernels of each recurrence, as in ``rnnmem._kernels``: ``*_rows`` (tight loops per row, for small H) and
``*_blas`` (one contiguous (rows, H) @ (H, G) product per step, for large H), each on the rows n0..n1-1 so that the
rows can be split over threads (the variants ``parallel`` and ``blas-parallel`` of ``rnnmem.rnn``). The logistic
function is σ(x) = (1 + tanh(x/2))/2 with the vectorisable tanh of ``rnnmem._kernels``.
"""

from __future__ import annotations

import numpy as np

from rnnmem._jit import jit
from rnnmem._kernels import TANH, activate, tanh

ELMAN, GRU, LSTM = 0, 1, 2
KINDS = {"rnn": ELMAN, "gru": GRU, "lstm": LSTM}
GATES = {ELMAN: 1, GRU: 3, LSTM: 4}


@jit
def sigmoid(x):
    """The logistic function 1/(1 + e^{−x}) = (1 + tanh(x/2))/2 (branch-free, vectorisable)."""
    return 0.5 + 0.5 * tanh(0.5 * x)


# ------------------------------------------------------------------------------------------------------- cells
@jit
def _cell_forward(kind, act, gi, gh, hp, cp, h_out, aux_out, aux2_out):
    """One step of one row. gi (G,) the input part (overwritten with the saved gates), gh (G,) = W_hh h + b_hh
    (scratch, overwritten), hp (H,) h_{k-1}, cp (H,) c_{k-1} (LSTM); writes h_out (H,), aux_out (H,) and, for the
    LSTM, aux2_out (H,) = tanh(c_k) (so that backpropagation needs no transcendental function).

    Written as separate simple loops (no array read and written at other offsets in one loop) so that LLVM
    vectorises each of them."""
    H = h_out.shape[0]
    if kind == ELMAN:
        if act == TANH:
            for i in range(H):
                t = tanh(gi[i] + gh[i])
                h_out[i] = t
                aux_out[i] = 1.0 - t * t
        else:
            for i in range(H):
                s, ds = activate(gi[i] + gh[i], act)
                h_out[i] = s
                aux_out[i] = ds
    elif kind == GRU:
        for i in range(2 * H):  # r, z
            gi[i] = sigmoid(gi[i] + gh[i])
        for i in range(H):
            aux_out[i] = gh[2 * H + i]
        r, z, n = gi[:H], gi[H:2 * H], gi[2 * H:]
        for i in range(H):
            nn = tanh(n[i] + r[i] * aux_out[i])
            n[i] = nn
            h_out[i] = nn + z[i] * (hp[i] - nn)
    else:
        G = 4 * H
        for i in range(G):
            gh[i] += gi[i]
        for i in range(2 * H):  # i, f
            gi[i] = sigmoid(gh[i])
        for i in range(2 * H, 3 * H):  # g
            gi[i] = tanh(gh[i])
        for i in range(3 * H, G):  # o
            gi[i] = sigmoid(gh[i])
        ig, fg, gg, og = gi[:H], gi[H:2 * H], gi[2 * H:3 * H], gi[3 * H:]
        for i in range(H):
            c = fg[i] * cp[i] + ig[i] * gg[i]
            tc = tanh(c)
            aux_out[i] = c
            aux2_out[i] = tc
            h_out[i] = og[i] * tc


@jit
def _elman_backward(dz, g, dgi):
    """dgi (H,) = act'(z) ⊙ g (= ∂L/∂gh as well)."""
    for i in range(g.shape[0]):
        dgi[i] = dz[i] * g[i]


@jit
def _gru_backward(sv, ghn, hp, g, dgi, dgh, direct):
    """GRU step: sv = (r, z, n), ghn = W_hn h + b_hn; writes dgi = ∂L/∂gi, dgh = ∂L/∂gh (n part r ⊙ δn) and the
    direct part g ⊙ z of ∂L/∂h_{k−1}."""
    H = g.shape[0]
    r, z, n = sv[:H], sv[H:2 * H], sv[2 * H:]
    for i in range(H):
        gk = g[i]
        dnp = gk * (1.0 - z[i]) * (1.0 - n[i] * n[i])
        drp = dnp * ghn[i] * r[i] * (1.0 - r[i])
        dzp = gk * (hp[i] - n[i]) * z[i] * (1.0 - z[i])
        dgi[i] = drp
        dgi[H + i] = dzp
        dgi[2 * H + i] = dnp
        dgh[i] = drp
        dgh[H + i] = dzp
        dgh[2 * H + i] = dnp * r[i]
        direct[i] = gk * z[i]


@jit
def _lstm_backward(sv, tcs, cp, g, dcarry, dgi):
    """LSTM step: sv = (i, f, g, o), tcs = tanh(c_k), cp = c_{k−1}; dcarry = ∂L/∂c_k from step k+1 (overwritten with
    ∂L/∂c_{k−1}); writes dgi = ∂L/∂(pre-activations) (= ∂L/∂gh). One loop over simple slices: it vectorises."""
    H = g.shape[0]
    ig, fg, gg, og = sv[:H], sv[H:2 * H], sv[2 * H:3 * H], sv[3 * H:]
    di, df, dg, do = dgi[:H], dgi[H:2 * H], dgi[2 * H:3 * H], dgi[3 * H:]
    for i in range(H):
        tc = tcs[i]
        gk = g[i]
        dc = dcarry[i] + gk * og[i] * (1.0 - tc * tc)
        di[i] = dc * gg[i] * ig[i] * (1.0 - ig[i])
        df[i] = dc * cp[i] * fg[i] * (1.0 - fg[i])
        dg[i] = dc * ig[i] * (1.0 - gg[i] * gg[i])
        do[i] = gk * tc * og[i] * (1.0 - og[i])
        dcarry[i] = dc * fg[i]


# ------------------------------------------------------------------------------------------------------- rows
@jit
def _forward_row(n, kind, act, gi, whht, bhh, h0, c0, h, aux, aux2, gh):
    """Row n through all T steps: whht = W_hhᵀ (H, G) (axpy along its contiguous rows), bhh (G,), gh scratch (G,)."""
    T = gi.shape[0]
    H, G = whht.shape
    for k in range(T):
        hp = h0[n] if k == 0 else h[k - 1, n]
        cp = c0[n] if k == 0 else aux[k - 1, n]
        for i in range(G):
            gh[i] = bhh[i]
        for j in range(H):
            hj = hp[j]
            for i in range(G):
                gh[i] += whht[j, i] * hj
        _cell_forward(kind, act, gi[k, n], gh, hp, cp, h[k, n], aux[k, n], aux2[k, n])


@jit
def forward_rows(kind, act, gi, whht, bhh, h0, c0, h, aux, aux2, n0, n1):
    """Forward pass of rows n0..n1-1, one row at a time through all steps."""
    G = whht.shape[1]
    gh = np.empty(G)
    for n in range(n0, n1):
        _forward_row(n, kind, act, gi, whht, bhh, h0, c0, h, aux, aux2, gh)


@jit
def _backward_row(n, kind, sv, aux, aux2, h, h0, c0, whh, dh, dgi, dghn, dh0, dc0, g, dcarry, dgh, direct):
    """BPTT of row n: whh = W_hh (G, H) (Wᵀ·δ as an axpy along its contiguous rows), dh (T, N, H) the direct
    gradients ∂L/∂h_k from above. Writes dgi (T, N, G), dghn (T, N, H) (GRU: the n part of ∂L/∂gh), dh0, dc0."""
    T = dh.shape[0]
    G, H = whh.shape
    for j in range(H):
        g[j] = 0.0  # carry into step T-1
        dcarry[j] = 0.0
    for k in range(T - 1, -1, -1):
        for j in range(H):
            g[j] += dh[k, n, j]
        hp = h0[n] if k == 0 else h[k - 1, n]
        if kind == ELMAN:
            _elman_backward(aux[k, n], g, dgi[k, n])
            back = dgi[k, n]
            for j in range(H):
                g[j] = 0.0
        elif kind == GRU:
            _gru_backward(sv[k, n], aux[k, n], hp, g, dgi[k, n], dgh, direct)
            back = dgh
            for j in range(H):
                dghn[k, n, j] = dgh[2 * H + j]
                g[j] = direct[j]
        else:
            cp = c0[n] if k == 0 else aux[k - 1, n]
            _lstm_backward(sv[k, n], aux2[k, n], cp, g, dcarry, dgi[k, n])
            back = dgi[k, n]
            for j in range(H):
                g[j] = 0.0
        for i in range(G):
            di = back[i]
            for j in range(H):
                g[j] += whh[i, j] * di
    for j in range(H):
        dh0[n, j] = g[j]
        dc0[n, j] = dcarry[j]


@jit
def backward_rows(kind, sv, aux, aux2, h, h0, c0, whh, dh, dgi, dghn, dh0, dc0, n0, n1):
    """BPTT of rows n0..n1-1, one row at a time."""
    G, H = whh.shape
    g = np.empty(H)
    dcarry = np.empty(H)
    dgh = np.empty(G)
    direct = np.empty(H)
    for n in range(n0, n1):
        _backward_row(n, kind, sv, aux, aux2, h, h0, c0, whh, dh, dgi, dghn, dh0, dc0, g, dcarry, dgh, direct)


# ------------------------------------------------------------------------------------------------------- blas
@jit
def forward_blas(kind, act, gi, whht, bhh, h0, c0, h, aux, aux2, n0, n1):
    """Forward pass of rows n0..n1-1 together: one BLAS product (rows, H) @ (H, G) per step."""
    T, N, G = gi.shape
    gh = np.empty((n1 - n0, G))
    for k in range(T):
        hp = h0[n0:n1] if k == 0 else h[k - 1, n0:n1]
        cp = c0[n0:n1] if k == 0 else aux[k - 1, n0:n1]
        np.dot(hp, whht, gh)
        for r in range(n1 - n0):
            n = n0 + r
            ghn = gh[r]
            for i in range(G):
                ghn[i] += bhh[i]
            _cell_forward(kind, act, gi[k, n], ghn, hp[r], cp[r], h[k, n], aux[k, n], aux2[k, n])


@jit
def backward_blas(kind, sv, aux, aux2, h, h0, c0, whh, dh, dgi, dghn, dh0, dc0, n0, n1):
    """BPTT of rows n0..n1-1 together: one BLAS product (rows, G) @ (G, H) per step."""
    T, N, H = dh.shape
    G = whh.shape[0]
    R = n1 - n0
    g = np.zeros((R, H))
    dcarry = np.zeros((R, H))
    dgh = np.empty((R, G))
    direct = np.zeros((R, H))
    for k in range(T - 1, -1, -1):
        for r in range(R):
            n = n0 + r
            gn = g[r]
            for j in range(H):
                gn[j] += dh[k, n, j]
            if kind == ELMAN:
                _elman_backward(aux[k, n], gn, dgi[k, n])
            elif kind == GRU:
                hp = h0[n] if k == 0 else h[k - 1, n]
                _gru_backward(sv[k, n], aux[k, n], hp, gn, dgi[k, n], dgh[r], direct[r])
                for j in range(H):
                    dghn[k, n, j] = dgh[r, 2 * H + j]
            else:
                cp = c0[n] if k == 0 else aux[k - 1, n]
                _lstm_backward(sv[k, n], aux2[k, n], cp, gn, dcarry[r], dgi[k, n])
        if kind == GRU:
            np.dot(dgh, whh, g)
            for r in range(R):
                for j in range(H):
                    g[r, j] += direct[r, j]
        else:
            np.dot(dgi[k, n0:n1], whh, g)
    for r in range(R):
        for j in range(H):
            dh0[n0 + r, j] = g[r, j]
            dc0[n0 + r, j] = dcarry[r, j]


#: the kernels of each direction: (one row at a time, all rows of a range per step); every kernel runs the rows
#: n0..n1-1 only, so that ``rnnmem.rnn`` can split the rows over threads (the kernels release the GIL)
FORWARD = (forward_rows, forward_blas)
BACKWARD = (backward_rows, backward_blas)
