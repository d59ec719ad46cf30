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

Legend: B batch, T steps, N hidden, D outputs, I = 2 inputs.
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

CELLS = ["vanilla", "leaky", "adaptive", "momentum", "adaptive_momentum"]
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
    N, D = m["N"], m["D"]
    shapes = [("w_enc", (N, D)), ("w_in", (N, 2)), ("w_rec", (N, N)), ("w_dec", (D, N))]
    if m["bias"]:
        shapes.append(("b", (N,)))
    out, off = {}, 0
    for name, shp in shapes:
        n = int(np.prod(shp))
        out[name] = blob[off:off + n].reshape(shp)
        off += n
    assert off == blob.size, (off, blob.size)
    return out


def forward(P, m, p0, v, y, noise):
    """Loss, its parts, H (B,T,N) and Z (B,T,D) of docs/model-rnn.md ("Model")."""
    cell, act = CELLS[m["cell"]], ACTS[m["act"]]
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
    print("%s: %s/%s bias=%d %s noise=%d wd=%g rate_l2=%g clip=%g" % (
        os.path.basename(d), CELLS[m["cell"]], ACTS[m["act"]], m["bias"],
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
