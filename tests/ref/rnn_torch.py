#!/usr/bin/python3
"""rnn_torch.py -- PyTorch (autograd) oracle for the networks of src/model/rnn.c.

    /usr/bin/python3 tests/ref/rnn_torch.py DIR

DIR holds case_NN/ directories written by tests/ref/rnn_dump.c (see there
for the files).  For every case this script builds the network of
docs/model-rnn.md ("Model") from the dumped weights with plain torch
operations, in float64, lets autograd differentiate it, and runs
torch.optim.Adam (and clip_grad_norm_) for the same number of steps on the
same batch and noise.  It then compares with what the C float code wrote:

    loss and its parts, h (B,T,N), z (B,T,D), every gradient at the initial
    weights, the loss before each Adam step, every parameter after them.

A tensor passes when |c - torch| <= atol + rtol * |torch| element-wise, with
atol = ATOL * max|torch| over the tensor (so elements far below the tensor's
scale are judged against that scale).  The worst element of every tensor is
printed.  Exit status 1 on any mismatch.

The gated cells are torch's own modules: torch.nn.GRU and torch.nn.LSTM
(bias=True/False as the case's bias) run on the dumped W_ih, W_hh, b_ih,
b_hh (the autograd leaves, put in the module's _flat_weights, the list its
forward hands to the GRU / LSTM kernel; torch 1.13's functional_call does
not reach it) one step at a time so that the hidden noise can be added to h_t between steps (for the
LSTM to h_t, not c_t); the UGRNN (Collins et al. 2017), which torch does
not have, is written out below.  The speed_heading input is computed here
from the displacements (|v| / dt, cos, sin of the direction).

Legend: B batch, T steps, N hidden, D outputs, I = 2 or 3 network inputs,
G gate blocks.
Nothing here is translated from the C backward: the gradients come from
autograd, the optimiser from torch.optim.
"""
import glob
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

RTOL = 1e-5      # relative, float32 level
ATOL = 1e-6      # times the tensor's largest magnitude
# After 5 Adam steps the parameters also carry Adam's amplification of
# float32 rounding in tiny gradients (m / (sqrt(v) + eps) ~ sign(g)), so
# they are compared at ATOL_ADAM * lr absolute instead.
ATOL_ADAM = 1e-3

CELLS = ["vanilla", "leaky", "adaptive", "momentum", "adaptive_momentum", "gru", "lstm", "ugrnn"]
GATED = {"gru": 3, "lstm": 4, "ugrnn": 2}
ACTS = ["relu", "tanh", "none"]


def read_manifest(d):
    m = {}
    with open(os.path.join(d, "manifest.txt")) as f:
        for line in f:
            k, v = line.split()
            try:
                m[k] = int(v)
            except ValueError:
                m[k] = float(v)
    return m


def load(d, name, shape):
    return np.fromfile(os.path.join(d, name), dtype="<f4").reshape(shape)


def split(blob, m):
    """The parameter blob of rnn.h as named tensors."""
    N, D, I = m["N"], m["D"], m["n_in"]
    cell = CELLS[m["cell"]]
    GN = GATED.get(cell, 1) * N
    assert m["G"] * N == GN
    shapes = [("w_enc", (N, D)), ("w_in", (GN, I)), ("w_rec", (GN, N)), ("w_dec", (D, N))]
    if m["bias"]:
        shapes.append(("b", (GN,)))
        if cell in ("gru", "lstm"):
            shapes.append(("b_hh", (GN,)))
    if cell == "lstm":
        shapes.append(("w_enc_c", (N, D)))
    out, off = {}, 0
    for name, shp in shapes:
        n = int(np.prod(shp))
        out[name] = blob[off:off + n].reshape(shp)
        off += n
    assert off == blob.size, (off, blob.size)
    return out


def encode(v, m):
    """The network input x (B,T,I) of the displacements v (B,T,2)."""
    if m["input"] == 0:
        return v
    r = torch.sqrt((v ** 2).sum(-1, keepdim=True))
    safe = torch.where(r > 0, r, torch.ones_like(r))
    cos = torch.where(r > 0, v[..., :1] / safe, torch.ones_like(r))
    sin = torch.where(r > 0, v[..., 1:] / safe, torch.zeros_like(r))
    return torch.cat([r / m["dt"], cos, sin], dim=-1)


def gated_states(P, m, p0, x, noise):
    """h_1..h_T of a gated cell; h_0 = W_enc p_0 (lstm: c_0 = W_enc_c p_0)."""
    cell, N, I = CELLS[m["cell"]], m["N"], m["n_in"]
    h = p0 @ P["w_enc"].T
    hs = []
    if cell in ("gru", "lstm"):
        mod = (torch.nn.GRU if cell == "gru" else torch.nn.LSTM)(I, N, bias=bool(m["bias"]), batch_first=True)
        mod = mod.double()
        assert mod._flat_weights_names == (["weight_ih_l0", "weight_hh_l0"] +
                                           (["bias_ih_l0", "bias_hh_l0"] if m["bias"] else []))
        mod._flat_weights = [P["w_in"], P["w_rec"]] + ([P["b"], P["b_hh"]] if m["bias"] else [])
        c = p0 @ P["w_enc_c"].T if cell == "lstm" else None
        for t in range(m["T"]):
            xt = x[:, t:t + 1]
            if cell == "gru":
                _, hn = mod(xt, h.unsqueeze(0))
            else:
                _, (hn, cn) = mod(xt, (h.unsqueeze(0), c.unsqueeze(0)))
                c = cn[0]
            h = hn[0] + (noise[:, t] if noise is not None else 0.0)
            hs.append(h)
    else:  # ugrnn, Collins, Sohl-Dickstein & Sussillo 2017
        for t in range(m["T"]):
            pre = x[:, t] @ P["w_in"].T + h @ P["w_rec"].T
            if "b" in P:
                pre = pre + P["b"]
            cand, gate = torch.tanh(pre[:, :N]), torch.sigmoid(pre[:, N:])
            h = gate * h + (1 - gate) * cand + (noise[:, t] if noise is not None else 0.0)
            hs.append(h)
    return torch.stack(hs, dim=1)


def forward(P, m, p0, v, y, noise):
    """Loss, its parts, H (B,T,N) and Z (B,T,D) of docs/model-rnn.md ("Model")."""
    cell, act = CELLS[m["cell"]], ACTS[m["act"]]
    v = encode(v, m)
    if cell in GATED:
        H = gated_states(P, m, p0, v, noise)
        return loss_of(P, m, H, y)
    phi = {"relu": torch.relu, "tanh": torch.tanh, "none": lambda s: s}[act]
    alpha, la, ba, lv = m["alpha"], m["lambda_a"], m["b_a"], m["lambda_v"]
    h = p0 @ P["w_enc"].T                        # h_0 = W_enc p_0
    a = torch.zeros_like(h)                      # a_0 = 0
    mom = torch.zeros_like(h)                    # m_0 = 0
    hs = []
    for t in range(m["T"]):
        u = h @ P["w_rec"].T + v[:, t] @ P["w_in"].T
        if "b" in P:
            u = u + P["b"]
        if cell in ("adaptive", "adaptive_momentum"):
            a = (1 - la) * a + ba * h            # a_t = (1-lambda_a) a_{t-1} + b_a h_{t-1}
            u = u - a
        q = phi(u)
        xi = noise[:, t] if noise is not None else 0.0
        if cell == "vanilla":
            h_new = q + xi
        elif cell in ("leaky", "adaptive"):
            h_new = (1 - alpha) * h + alpha * q + xi
        else:
            mom = (1 - lv) * mom + alpha * (q - h) + xi
            h_new = h + mom
        h = h_new
        hs.append(h)
    H = torch.stack(hs, dim=1)
    return loss_of(P, m, H, y)


def loss_of(P, m, H, y):
    Z = H @ P["w_dec"].T
    if m["cartesian"]:
        data = F.mse_loss(Z, y)                  # mean over B, T, D
    else:
        data = -(y * F.log_softmax(Z, dim=-1)).sum(-1).mean()
    wd = m["weight_decay"] * (P["w_rec"] ** 2).sum()
    rate = m["rate_l2"] * (H ** 2).mean()
    return data + wd + rate, (data, wd, rate), H, Z


class Checker:
    def __init__(self):
        self.bad = 0
        self.worst_rel = {}

    def check(self, label, c, ref, atol_abs=None):
        c = np.asarray(c, dtype=np.float64).ravel()
        ref = np.asarray(ref, dtype=np.float64).ravel()
        scale = float(np.max(np.abs(ref))) if ref.size else 0.0
        atol = ATOL * scale if atol_abs is None else atol_abs
        err = np.abs(c - ref)
        lim = atol + RTOL * np.abs(ref)
        ratio = err / np.where(lim > 0, lim, 1e-300)
        i = int(np.argmax(ratio))
        ok = bool(np.all(err <= lim))
        rel = float(err[i] / scale) if scale > 0 else float(err[i])
        kind = label
        self.worst_rel[kind] = max(self.worst_rel.get(kind, 0.0), float(np.max(err) / scale) if scale > 0 else 0.0)
        print("  %-4s %-26s worst [%4d] c=% .9g torch=% .9g |diff|/max|torch|=%.2e (%.2f of tolerance)"
              % ("ok" if ok else "FAIL", label, i, c[i], ref[i], rel, ratio[i]))
        if not ok:
            self.bad += 1


def run_case(d, ck):
    m = read_manifest(d)
    B, T, N, D = m["B"], m["T"], m["N"], m["D"]
    print("%s: %s/%s bias=%d input=%s %s noise=%d wd=%g rate_l2=%g clip=%g" % (
        os.path.basename(d), CELLS[m["cell"]], "-" if CELLS[m["cell"]] in GATED else ACTS[m["act"]], m["bias"],
        ("velocity", "speed_heading")[m["input"]],
        "mse" if m["cartesian"] else "ce", m["noise"], m["weight_decay"], m["rate_l2"], m["clip"]))
    t = lambda x: torch.tensor(x, dtype=torch.float64)
    p0 = t(load(d, "p0.f32", (B, D)))
    v = t(load(d, "v.f32", (B, T, 2)))
    y = t(load(d, "y.f32", (B, T, D)))
    noise = t(load(d, "noise.f32", (B, T, N))) if m["noise"] else None
    P0 = split(load(d, "params0.f32", (-1,)), m)
    P = {k: t(x).requires_grad_(True) for k, x in P0.items()}

    # loss, states and gradients at the initial weights
    loss, parts, H, Z = forward(P, m, p0, v, y, noise)
    loss.backward()
    ck.check("loss", m["loss"], loss.item())
    for name, val in zip(("loss_data", "loss_wd", "loss_rate"), parts):
        ck.check(name, m[name], float(val), atol_abs=1e-7)
    ck.check("h", load(d, "hidden.f32", (B, T, N)), H.detach().numpy())
    ck.check("z", load(d, "output.f32", (B, T, D)), Z.detach().numpy())
    G = split(load(d, "grads.f32", (-1,)), m)
    for k in P:
        ck.check("grad:d" + k, G[k], P[k].grad.numpy())

    # Adam: the same batch and noise every step
    P = {k: t(x).requires_grad_(True) for k, x in P0.items()}
    opt = torch.optim.Adam(list(P.values()), lr=m["lr"], betas=(m["beta1"], m["beta2"]), eps=m["eps"])
    losses = []
    for _ in range(m["steps"]):
        opt.zero_grad()
        loss = forward(P, m, p0, v, y, noise)[0]
        loss.backward()
        if m["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(list(P.values()), m["clip"])
        opt.step()
        losses.append(loss.item())
    ck.check("adam:losses", load(d, "losses.f32", (-1,)), losses)
    PF = split(load(d, "params_final.f32", (-1,)), m)
    for k in P:
        ck.check("adam:" + k, PF[k], P[k].detach().numpy(), atol_abs=ATOL_ADAM * m["lr"])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: rnn_torch.py DIR")
    torch.set_num_threads(1)
    cases = sorted(glob.glob(os.path.join(sys.argv[1], "case_*")))
    if not cases:
        sys.exit("rnn_torch.py: no cases in %s" % sys.argv[1])
    ck = Checker()
    for d in cases:
        run_case(d, ck)
    print("worst |c - torch| / max|torch| per quantity:")
    for k in sorted(ck.worst_rel):
        print("  %-12s %.2e" % (k, ck.worst_rel[k]))
    print("rnn_torch: %d cases, %d mismatching tensors (torch %s)" % (len(cases), ck.bad, torch.__version__))
    sys.exit(1 if ck.bad else 0)


if __name__ == "__main__":
    main()
