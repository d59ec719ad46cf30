#!/usr/bin/python3
"""torch_step.py -- the training step of bench_step.c in PyTorch, one thread.

    /usr/bin/python3 bench/torch_step.py [--table] [--B 200] [--T 20]
        [--N 512] [--P 512] [--cell leaky|vanilla] [--reps 10] [--warmup 2]
        [--variants loop,script,rnn] [--format md|tsv]

The step is what bench_step.c times: forward of B trajectories of T steps,
the cross-entropy place-cell loss plus weight_decay * sum(W_rec^2)
(settings.def defaults: weight decay 1e-4, Adam lr 1e-4), backward by
autograd, torch.optim.Adam.  Model (docs/model-rnn.md), relu, no noise:
    h_0 = W_enc p_0
    h_t = (1 - alpha) h_{t-1} + alpha relu(W_rec h_{t-1} + W_in v_t)
    z_t = W_dec h_t,  L = mean_{b,t} -sum_i y_i log softmax(z_t)_i
alpha = dt / tau = 0.2 for leaky (defaults), 1 for vanilla.

Variants (the table reports the fastest, and names it):
  loop    a Python loop over t; W_in v_t for all steps in one matmul before
          the loop, W_rec h_{t-1} + (W_in v)_t as one addmm per step; the
          decoder over all (b, t) in one matmul after it.
  script  the same forward compiled with torch.jit.script (no Python in
          the loop; Debian's build has no LLVM, so no CPU op fusion).
  rnn     nn.RNN (relu) with the decoder batched: vanilla cell only (the
          leaky update is not an nn.RNN cell).
Batch data (positions uniform in a 2.2 m box, Gaussian softmax place-cell
targets, sigma 0.12 m; displacements N(0, 0.02)) are made once, outside the
timer; the timing does not depend on the values.
Each figure is the median over --reps steps after --warmup, wall
(time.perf_counter) and CPU (time.process_time).
"""
import argparse
import statistics
import sys
import time

import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

TABLE = [(128, 256, 20, 3), (512, 512, 10, 2), (1024, 512, 6, 1), (4096, 512, 3, 1)]
WD = 1e-4
LR = 1e-4


def make_batch(B, T, P, g):
    cen = (torch.rand(P, 2, generator=g) - 0.5) * 2.2
    pos = (torch.rand(B, T + 1, 2, generator=g) - 0.5) * 2.2
    d2 = ((pos[:, :, None, :] - cen[None, None, :, :]) ** 2).sum(-1)
    code = torch.softmax(-d2 / (2 * 0.12 ** 2), dim=-1)
    v = torch.randn(B, T, 2, generator=g) * 0.02
    return code[:, 0].contiguous(), v, code[:, 1:].contiguous()


def init_params(N, P, g):
    def u(shape, k):
        return ((torch.rand(*shape, generator=g) * 2 - 1) * k).requires_grad_()
    kN, kP = N ** -0.5, P ** -0.5
    return [u((N, P), kP), u((N, 2), kN), u((N, N), kN), u((P, N), kN)]


def loss_of(z, y, w_rec):
    # mean over (b, t) of -sum_i y_i log softmax(z)_i, plus the weight decay
    return -(y * torch.log_softmax(z, dim=-1)).sum(-1).mean() + WD * (w_rec * w_rec).sum()


def fwd_loop(w_enc, w_in, w_rec, w_dec, p0, v, alpha: float):
    B, T = v.shape[0], v.shape[1]
    u_in = torch.matmul(v, w_in.t())                 # (B, T, N) all input drives
    h = torch.matmul(p0, w_enc.t())                  # (B, N)
    hs = []
    for t in range(T):
        s = torch.addmm(u_in[:, t], h, w_rec.t())
        q = torch.relu(s)
        h = q if alpha == 1.0 else (1.0 - alpha) * h + alpha * q
        hs.append(h)
    H = torch.stack(hs, 1)                           # (B, T, N)
    return torch.matmul(H, w_dec.t())                # (B, T, P)


def make_step(variant, N, P, B, T, alpha, g):
    params = init_params(N, P, g)
    opt = torch.optim.Adam(params, lr=LR)
    w_enc, w_in, w_rec, w_dec = params
    if variant == "loop":
        fwd = lambda p0, v: fwd_loop(w_enc, w_in, w_rec, w_dec, p0, v, alpha)
    elif variant == "script":
        sf = torch.jit.script(fwd_loop)
        fwd = lambda p0, v: sf(w_enc, w_in, w_rec, w_dec, p0, v, alpha)
    elif variant == "rnn":
        if alpha != 1.0:
            return None
        rnn = torch.nn.RNN(2, N, nonlinearity="relu", bias=False, batch_first=True)
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(w_in)
            rnn.weight_hh_l0.copy_(w_rec)
        params = [w_enc, rnn.weight_ih_l0, rnn.weight_hh_l0, w_dec]
        opt = torch.optim.Adam(params, lr=LR)
        w_rec = rnn.weight_hh_l0

        def fwd(p0, v):
            H, _ = rnn(v, torch.matmul(p0, w_enc.t())[None])
            return torch.matmul(H, w_dec.t())
    else:
        raise SystemExit("unknown variant " + variant)

    def step(p0, v, y):
        opt.zero_grad(set_to_none=True)
        loss = loss_of(fwd(p0, v), y, w_rec)
        loss.backward()
        opt.step()
        return float(loss)
    return step


def bench(N, P, B, T, cell, reps, warmup, variant):
    g = torch.Generator().manual_seed(0)
    alpha = 1.0 if cell == "vanilla" else 0.02 / 0.1
    step = make_step(variant, N, P, B, T, alpha, g)
    if step is None:
        return None
    p0, v, y = make_batch(B, T, P, g)
    wall, cpu = [], []
    for i in range(warmup + reps):
        w0, c0 = time.perf_counter(), time.process_time()
        loss = step(p0, v, y)
        w1, c1 = time.perf_counter(), time.process_time()
        if loss != loss:
            raise SystemExit("loss is nan")
        if i >= warmup:
            wall.append(w1 - w0)
            cpu.append(c1 - c0)
    return 1e3 * statistics.median(wall), 1e3 * statistics.median(cpu)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--B", type=int, default=200)
    ap.add_argument("--T", type=int, default=20)
    ap.add_argument("--N", type=int, default=512)
    ap.add_argument("--P", type=int, default=512)
    ap.add_argument("--cell", default="leaky", choices=["leaky", "vanilla"])
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--variants", default="loop,script,rnn")
    ap.add_argument("--format", default="md", choices=["md", "tsv"])
    a = ap.parse_args()
    rows = [(n, p, r, w) for n, p, r, w in TABLE] if a.table else [(a.N, a.P, a.reps, a.warmup)]
    cell = "leaky" if a.table else a.cell
    B, T = (200, 20) if a.table else (a.B, a.T)
    variants = a.variants.split(",")
    if a.format == "tsv":
        print("N\tP\tB\tT\tcell\tvariant\ttorch_ms\ttorch_cpu_ms\tall")
    else:
        print("torch %s, %d thread(s), config: %s" % (torch.__version__, torch.get_num_threads(),
              torch.__config__.parallel_info().splitlines()[0]))
        print("| N | P | B | T | cell | best variant | ms (cpu) | all variants ms (cpu) |")
        print("|---|---|---|---|---|---|---|---|")
    for N, P, reps, warmup in rows:
        res = {}
        for var in variants:
            r = bench(N, P, B, T, cell, reps, warmup, var)
            if r is not None:
                res[var] = r
        best = min(res, key=lambda k: res[k][1])   # by CPU time: the machine may be loaded
        allv = " ".join("%s=%.1f(%.1f)" % (k, w, c) for k, (w, c) in res.items())
        if a.format == "tsv":
            print("%d\t%d\t%d\t%d\t%s\t%s\t%.3f\t%.3f\t%s" % (N, P, B, T, cell, best, res[best][0], res[best][1], allv))
        else:
            print("| %d | %d | %d | %d | %s | %s | %.1f (%.1f) | %s |" % (N, P, B, T, cell, best, res[best][0],
                                                                          res[best][1], allv))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
