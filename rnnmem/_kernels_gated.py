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
  Saved: i, f, g, o written over ``gi``, ``aux`` = c_k.

Backward (BPTT), for the total gradient g_k = ∂L/∂h_k = dh_k + (carry from step k+1):

* elman: δ_k = act'(z_k) ⊙ g_k; carry = W_hhᵀ δ_k.
* GRU: dn = g(1 − z), dz = g(h_{k-1} − n), δn = dn(1 − n²), δr = δn·gh_n·r(1 − r), δz = dz·z(1 − z);
  ∂L/∂gi = (δr, δz, δn), ∂L/∂gh = (δr, δz, r ⊙ δn) (its n part is stored in ``dghn``); carry = g ⊙ z + W_hhᵀ ∂L/∂gh.
* LSTM: with the cell carry γ (∂L/∂c_k from step k+1): dc = γ + g ⊙ o ⊙ (1 − tanh² c_k);
  ∂L/∂(i, f, g, o) pre-activations = (dc·g·i(1−i), dc·c_{k-1}·f(1−f), dc·i·(1−g²), g·tanh(c_k)·o(1−o));
  γ ← dc ⊙ f; carry = W_hhᵀ ∂L/∂gates.

The caller turns ∂L/∂gi and ∂L/∂gh into the weight gradients by single matrix products (∂W_ih = Σ_k δ_k x_kᵀ,
∂W_hh = Σ_k δh_k h_{k-1}ᵀ, biases = sums) and the input gradient of the layer below (W_ihᵀ δ_k).

Two variants of each recurrence, as in ``rnnmem._kernels``: ``*_rows`` (tight loops per row, for small H; also
under ``prange``) and ``*_blas`` (one contiguous (N, H) @ (H, G) product per step, for large H). The logistic
function is σ(x) = (1 + tanh(x/2))/2 with the vectorisable tanh of ``rnnmem._kernels``.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from rnnmem._jit import jit, jit_parallel
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
def _cell_forward(kind, act, gi, gh, hp, cp, h_out, aux_out):
    """One step of one row. gi (G,) the input part (overwritten with the saved gates), gh (G,) = W_hh h + b_hh
    (scratch, overwritten), hp (H,) h_{k-1}, cp (H,) c_{k-1} (LSTM); writes h_out (H,) and aux_out (H,).

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
            aux_out[i] = c
            h_out[i] = og[i] * tanh(c)


@jit
def _cell_backward(kind, sv, aux, hp, cp, g, dcarry, dgi, dgh, direct):
    """BPTT through one step of one row. sv (G,) saved gates, aux (H,) saved (elman act', GRU gh_n, LSTM c_k),
    hp/cp (H,) previous h/c, g (H,) = ∂L/∂h_k. dcarry (H,) LSTM cell carry (read, then overwritten with ∂L/∂c_{k-1}).
    Writes dgi (G,) = ∂L/∂gi, dgh (G,) = ∂L/∂gh and direct (H,) = the part of ∂L/∂h_{k-1} not through W_hh."""
    H = g.shape[0]
    if kind == ELMAN:
        for i in range(H):
            d = aux[i] * g[i]
            dgi[i] = d
            dgh[i] = d
            direct[i] = 0.0
    elif kind == GRU:
        for i in range(H):
            r = sv[i]
            z = sv[H + i]
            n = sv[2 * H + i]
            gk = g[i]
            dnp = gk * (1.0 - z) * (1.0 - n * n)
            drp = dnp * aux[i] * r * (1.0 - r)
            dzp = gk * (hp[i] - n) * z * (1.0 - z)
            dgi[i] = drp
            dgi[H + i] = dzp
            dgi[2 * H + i] = dnp
            dgh[i] = drp
            dgh[H + i] = dzp
            dgh[2 * H + i] = dnp * r
            direct[i] = gk * z
    else:
        for i in range(H):
            ig = sv[i]
            fg = sv[H + i]
            gg = sv[2 * H + i]
            og = sv[3 * H + i]
            tc = tanh(aux[i])
            gk = g[i]
            dc = dcarry[i] + gk * og * (1.0 - tc * tc)
            d0 = dc * gg * ig * (1.0 - ig)
            d1 = dc * cp[i] * fg * (1.0 - fg)
            d2 = dc * ig * (1.0 - gg * gg)
            d3 = gk * tc * og * (1.0 - og)
            dgi[i] = d0
            dgi[H + i] = d1
            dgi[2 * H + i] = d2
            dgi[3 * H + i] = d3
            dgh[i] = d0
            dgh[H + i] = d1
            dgh[2 * H + i] = d2
            dgh[3 * H + i] = d3
            dcarry[i] = dc * fg
            direct[i] = 0.0


# ------------------------------------------------------------------------------------------------------- rows
@jit
def _forward_row(n, kind, act, gi, whht, bhh, h0, c0, h, aux, gh):
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
        _cell_forward(kind, act, gi[k, n], gh, hp, cp, h[k, n], aux[k, n])


@jit
def forward_rows(kind, act, gi, whht, bhh, h0, c0, h, aux):
    G = whht.shape[1]
    gh = np.empty(G)
    for n in range(gi.shape[1]):
        _forward_row(n, kind, act, gi, whht, bhh, h0, c0, h, aux, gh)


@jit_parallel
def forward_rows_parallel(kind, act, gi, whht, bhh, h0, c0, h, aux):
    G = whht.shape[1]
    for n in prange(gi.shape[1]):
        gh = np.empty(G)
        _forward_row(n, kind, act, gi, whht, bhh, h0, c0, h, aux, gh)


@jit
def _backward_row(n, kind, sv, aux, h, h0, c0, whh, dh, dgi, dghn, dh0, dc0, g, dcarry, dgh, direct):
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
        cp = c0[n] if k == 0 else aux[k - 1, n]
        _cell_backward(kind, sv[k, n], aux[k, n], hp, cp, g, dcarry, dgi[k, n], dgh, direct)
        if kind == GRU:
            for j in range(H):
                dghn[k, n, j] = dgh[2 * H + j]
        for j in range(H):
            g[j] = direct[j]
        for i in range(G):
            di = dgh[i]
            for j in range(H):
                g[j] += whh[i, j] * di
    for j in range(H):
        dh0[n, j] = g[j]
        dc0[n, j] = dcarry[j]


@jit
def backward_rows(kind, sv, aux, h, h0, c0, whh, dh, dgi, dghn, dh0, dc0):
    G, H = whh.shape
    g = np.empty(H)
    dcarry = np.empty(H)
    dgh = np.empty(G)
    direct = np.empty(H)
    for n in range(dh.shape[1]):
        _backward_row(n, kind, sv, aux, h, h0, c0, whh, dh, dgi, dghn, dh0, dc0, g, dcarry, dgh, direct)


@jit_parallel
def backward_rows_parallel(kind, sv, aux, h, h0, c0, whh, dh, dgi, dghn, dh0, dc0):
    G, H = whh.shape
    for n in prange(dh.shape[1]):
        g = np.empty(H)
        dcarry = np.empty(H)
        dgh = np.empty(G)
        direct = np.empty(H)
        _backward_row(n, kind, sv, aux, h, h0, c0, whh, dh, dgi, dghn, dh0, dc0, g, dcarry, dgh, direct)


# ------------------------------------------------------------------------------------------------------- blas
@jit
def forward_blas(kind, act, gi, whht, bhh, h0, c0, h, aux):
    T, N, G = gi.shape
    gh = np.empty((N, G))
    for k in range(T):
        hp = h0 if k == 0 else h[k - 1]
        cp = c0 if k == 0 else aux[k - 1]
        np.dot(hp, whht, gh)
        for n in range(N):
            ghn = gh[n]
            for i in range(G):
                ghn[i] += bhh[i]
            _cell_forward(kind, act, gi[k, n], ghn, hp[n], cp[n], h[k, n], aux[k, n])


@jit
def backward_blas(kind, sv, aux, h, h0, c0, whh, dh, dgi, dghn, dh0, dc0):
    T, N, H = dh.shape
    G = whh.shape[0]
    g = np.zeros((N, H))
    dcarry = np.zeros((N, H))
    dgh = np.empty((N, G))
    direct = np.empty((N, H))
    for k in range(T - 1, -1, -1):
        hp = h0 if k == 0 else h[k - 1]
        cp = c0 if k == 0 else aux[k - 1]
        for n in range(N):
            gn = g[n]
            for j in range(H):
                gn[j] += dh[k, n, j]
            _cell_backward(kind, sv[k, n], aux[k, n], hp[n], cp[n], gn, dcarry[n], dgi[k, n], dgh[n], direct[n])
            if kind == GRU:
                for j in range(H):
                    dghn[k, n, j] = dgh[n, 2 * H + j]
        np.dot(dgh, whh, g)
        for n in range(N):
            for j in range(H):
                g[n, j] += direct[n, j]
    for n in range(N):
        for j in range(H):
            dh0[n, j] = g[n, j]
            dc0[n, j] = dcarry[n, j]


FORWARD = {"rows": forward_rows, "parallel": forward_rows_parallel, "blas": forward_blas}
BACKWARD = {"rows": backward_rows, "parallel": backward_rows_parallel, "blas": backward_blas}
