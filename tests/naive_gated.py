"""Slow, independent references for the torch-layout models and the diagonal SSM: loops over batch and time written
from PyTorch's documented equations (nothing shared with rnnmem's kernels), reverse mode step by step."""

from __future__ import annotations

import numpy as np

GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def _layer_params(p, layer, bias, G, H):
    w_ih, w_hh = p[f"weight_ih_l{layer}"], p[f"weight_hh_l{layer}"]
    b_ih = p[f"bias_ih_l{layer}"] if bias else np.zeros(G * H)
    b_hh = p[f"bias_hh_l{layer}"] if bias else np.zeros(G * H)
    return w_ih, w_hh, b_ih, b_hh


def forward(kind, p, x, h0=None, c0=None, nonlinearity="tanh"):
    """torch's output (B, T, H) and per-layer tapes (for :func:`vjp`)."""
    layers = sum(1 for k in p if k.startswith("weight_ih_l"))
    bias = "bias_ih_l0" in p
    H = p["weight_hh_l0"].shape[1]
    G = GATES[kind]
    B, T, _ = x.shape
    h0 = np.zeros((layers, B, H)) if h0 is None else h0
    c0 = np.zeros((layers, B, H)) if c0 is None else c0
    inp = x
    tapes = []
    for layer in range(layers):
        w_ih, w_hh, b_ih, b_hh = _layer_params(p, layer, bias, G, H)
        out = np.zeros((B, T, H))
        tape = []
        for n in range(B):
            h, c = h0[layer, n].copy(), c0[layer, n].copy()
            rows = []
            for k in range(T):
                u = inp[n, k]
                gi = w_ih @ u + b_ih
                gh = w_hh @ h + b_hh
                rec = {"u": u, "h": h, "c": c, "gh": gh}
                if kind == "rnn":
                    z = gi + gh
                    hn = np.tanh(z) if nonlinearity == "tanh" else np.maximum(z, 0.0)
                    rec["z"] = z
                elif kind == "gru":
                    r = _sig(gi[:H] + gh[:H])
                    zz = _sig(gi[H:2 * H] + gh[H:2 * H])
                    nn = np.tanh(gi[2 * H:] + r * gh[2 * H:])
                    hn = (1.0 - zz) * nn + zz * h
                    rec.update(r=r, z=zz, n=nn)
                else:
                    a = gi + gh
                    i, f, g, o = _sig(a[:H]), _sig(a[H:2 * H]), np.tanh(a[2 * H:3 * H]), _sig(a[3 * H:])
                    c = f * c + i * g
                    hn = o * np.tanh(c)
                    rec.update(i=i, f=f, g=g, o=o, cn=c)
                rows.append(rec)
                h = hn
                out[n, k] = h
            tape.append(rows)
        tapes.append(tape)
        inp = out
    return inp, tapes


def vjp(kind, p, x, dy, h0=None, c0=None, nonlinearity="tanh"):
    """Gradients of sum(dy * output): dict by torch name, plus "x", "h0", "c0"."""
    layers = sum(1 for k in p if k.startswith("weight_ih_l"))
    bias = "bias_ih_l0" in p
    H = p["weight_hh_l0"].shape[1]
    G = GATES[kind]
    B, T, _ = x.shape
    _, tapes = forward(kind, p, x, h0, c0, nonlinearity)
    grads = {}
    gh0 = np.zeros((layers, B, H))
    gc0 = np.zeros((layers, B, H))
    dout = dy.copy()
    for layer in range(layers - 1, -1, -1):
        w_ih, w_hh, b_ih, b_hh = _layer_params(p, layer, bias, G, H)
        gw_ih, gw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
        gb_ih, gb_hh = np.zeros(G * H), np.zeros(G * H)
        din = np.zeros((B, T, w_ih.shape[1]))
        for n in range(B):
            dh_next = np.zeros(H)
            dc_next = np.zeros(H)
            for k in range(T - 1, -1, -1):
                rec = tapes[layer][n][k]
                dh = dout[n, k] + dh_next
                if kind == "rnn":
                    z = rec["z"]
                    dz = dh * ((1.0 - np.tanh(z) ** 2) if nonlinearity == "tanh" else (z > 0).astype(float))
                    d_gi, d_gh = dz, dz
                    dh_prev = w_hh.T @ dz
                elif kind == "gru":
                    r, zz, nn, gh, hprev = rec["r"], rec["z"], rec["n"], rec["gh"], rec["h"]
                    dn = dh * (1.0 - zz)
                    dzz = dh * (hprev - nn)
                    dn_pre = dn * (1.0 - nn ** 2)
                    dr = dn_pre * gh[2 * H:]
                    dr_pre = dr * r * (1.0 - r)
                    dz_pre = dzz * zz * (1.0 - zz)
                    d_gi = np.concatenate([dr_pre, dz_pre, dn_pre])
                    d_gh = np.concatenate([dr_pre, dz_pre, dn_pre * r])
                    dh_prev = dh * zz + w_hh.T @ d_gh
                else:
                    i, f, g, o, c, cn = rec["i"], rec["f"], rec["g"], rec["o"], rec["c"], rec["cn"]
                    tc = np.tanh(cn)
                    do = dh * tc
                    dc = dc_next + dh * o * (1.0 - tc ** 2)
                    di, df, dg = dc * g, dc * c, dc * i
                    d_gi = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)])
                    d_gh = d_gi
                    dc_next = dc * f
                    dh_prev = w_hh.T @ d_gh
                gw_ih += np.outer(d_gi, rec["u"])
                gw_hh += np.outer(d_gh, rec["h"])
                gb_ih += d_gi
                gb_hh += d_gh
                din[n, k] = w_ih.T @ d_gi
                dh_next = dh_prev
            gh0[layer, n] = dh_next
            gc0[layer, n] = dc_next
        grads[f"weight_ih_l{layer}"] = gw_ih
        grads[f"weight_hh_l{layer}"] = gw_hh
        if bias:
            grads[f"bias_ih_l{layer}"] = gb_ih
            grads[f"bias_hh_l{layer}"] = gb_hh
        dout = din
    grads["x"] = dout
    grads["h0"] = gh0
    grads["c0"] = gc0
    return grads


# ------------------------------------------------------------------------------------------------ diagonal SSM
def ssm_forward(lam, B, C, D, x):
    """y_k = Re(C h_k) + D x_k, h_k = lam ⊙ h_{k-1} + B x_k, h_{-1} = 0, one sequence and step at a time."""
    Bn, T, _ = x.shape
    p = C.shape[0]
    y = np.zeros((Bn, T, p))
    for n in range(Bn):
        h = np.zeros(lam.shape[0], dtype=complex)
        for k in range(T):
            h = lam * h + B @ x[n, k]
            y[n, k] = (C @ h).real + (D @ x[n, k] if D is not None else 0.0)
    return y


def ssm_markov(lam, B, C, D, n):
    """L_0 = Re(CB) + D, L_j = Re(C diag(lam^j) B), by explicit powers."""
    out = np.empty((n, C.shape[0], B.shape[1]))
    for j in range(n):
        out[j] = (C @ np.diag(lam ** j) @ B).real
    if D is not None:
        out[0] += D
    return out
