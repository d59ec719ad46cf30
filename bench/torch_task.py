#!/usr/bin/python3
"""torch_task.py -- a whole task (training, evaluation, rate maps, gridness,
shuffle null) the way the field's PyTorch code does it, one thread, timed by
phase: the end-to-end peer of `bench_step --task` (docs/performance.md).

Legend: B batch, T training steps, E evaluation steps, N hidden, P place
cells, G rate-map bins per side, S null shuffles, U null units.

    /usr/bin/python3 bench/torch_task.py [--N 128] [--P 256] [--steps 3000]
        [--ratemap-trajectories 4000] [--shuffles 1000] [--target dog]
        [--format md|tsv]

What it does, following Sorscher et al. 2019 (grid-pattern-formation:
trajectory_generator.py, place_cells.py, model.py, utils.compute_ratemaps)
and Banino et al. 2018's scorer (scores.py, here tests/ref/gridscore_ref.py):
  data     per batch: numpy random walk (Rayleigh speed, Gaussian turn rate,
           wall avoidance: turn parallel and slow down within the border
           region), vectorised over the batch, looped over time; targets
           by torch: softmax(-|x - c|^2 / (2 sigma^2)), DoG = difference of
           two softmaxes (sigma^2 and surround * sigma^2), shifted by its
           minimum and renormalised
  step     the leaky ReLU RNN of bench/torch_step.py ("loop" variant:
           h_t = (1 - a) h_{t-1} + a relu(W_rec h_{t-1} + W_in v_t),
           z = W_dec h, cross-entropy on the targets + weight decay on
           W_rec), autograd, torch.optim.Adam
  eval     eval_batch = 200 trajectories of E = 2T steps, decoding error
           (mean of the 3 most active cells' centres) per step
  ratemap  4000 trajectories of E steps in batches of 200, hidden states
           and positions kept, scipy.stats.binned_statistic_2d per unit
  score    score60 / score90 of every unit (SAC by correlate2d, rotations
           by scipy.ndimage.rotate, ring masks)
  null     S shuffles: a random unit of U = 64 kept, its activity series
           circularly shifted, binned and scored like the units
Same sizes and defaults as sweep's settings.def (B 200, T 20, dt 0.02,
tau 0.1, sigma 0.12, surround 2, square arena 2.2 m, lr 1e-4, weight decay
1e-4).  Times: wall (time.perf_counter) and CPU (time.process_time) per
phase.
"""
import argparse
import os
import sys
import time

import numpy as np
import scipy.stats
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "ref"))
import torch_step  # noqa: E402  (fwd_loop, init_params, loss_of; sets one thread)
import gridscore_ref  # noqa: E402  (sac_of, ring_masks, scores_of)

torch.set_num_threads(1)

BOX = 2.2
DT = 0.02
TAU = 0.1
SIGMA = 0.12
SURROUND = 2.0
BORDER = 0.03
TURN_SD = 11.52
SPEED = 0.13 * 2 * np.pi


def avoid_wall(pos, hd):
    """Sorscher's avoid_wall for a square box centred at 0."""
    x, y = pos[:, 0], pos[:, 1]
    dists = np.stack([BOX / 2 - x, BOX / 2 - y, BOX / 2 + x, BOX / 2 + y], -1)
    d_wall = dists.min(-1)
    theta = (np.arange(4) * np.pi / 2)[dists.argmin(-1)]
    a_wall = np.mod(np.mod(hd, 2 * np.pi) - theta + np.pi, 2 * np.pi) - np.pi
    near = (d_wall < BORDER) & (np.abs(a_wall) < np.pi / 2)
    turn = np.zeros_like(hd)
    turn[near] = np.sign(a_wall[near]) * (np.pi / 2 - np.abs(a_wall[near]))
    return near, turn


def trajectories(B, T, rng):
    """-> start (B, 2), v (B, T, 2), pos (B, T, 2) of steps 1..T."""
    pos = np.zeros((B, T + 1, 2))
    hd = np.zeros((B, T + 1))
    pos[:, 0] = rng.uniform(-BOX / 2 + BORDER, BOX / 2 - BORDER, (B, 2))
    hd[:, 0] = rng.uniform(0, 2 * np.pi, B)
    turns = rng.normal(0, TURN_SD, (B, T))
    speeds = rng.rayleigh(SPEED, (B, T))
    vel = np.zeros((B, T, 2))
    for t in range(T):
        near, turn = avoid_wall(pos[:, t], hd[:, t])
        s = speeds[:, t] * np.where(near, 0.25, 1.0)
        h = hd[:, t] + turn
        step = (s * DT)[:, None] * np.stack([np.cos(h), np.sin(h)], -1)
        pos[:, t + 1] = np.clip(pos[:, t] + step, -BOX / 2, BOX / 2)
        vel[:, t] = pos[:, t + 1] - pos[:, t]
        hd[:, t + 1] = h + DT * turns[:, t]
    f = lambda a: torch.from_numpy(a.astype(np.float32))
    return f(pos[:, 0]), f(vel), f(pos[:, 1:])


class PlaceCells:
    def __init__(self, P, target, g):
        self.c = (torch.rand(P, 2, generator=g) - 0.5) * BOX
        self.target = target

    def codes(self, x):
        d2 = ((x[..., None, :] - self.c) ** 2).sum(-1)
        out = torch.softmax(-d2 / (2 * SIGMA ** 2), -1)
        if self.target == "dog":
            out = out - torch.softmax(-d2 / (2 * SURROUND * SIGMA ** 2), -1)
            out = out - out.min(-1, keepdim=True).values
            out = out / out.sum(-1, keepdim=True)
        return out

    def decode(self, z, k=3):
        idx = torch.topk(z, k, -1).indices
        return self.c[idx].mean(-2)


def hidden(params, p0, v, alpha):
    """Forward without the decoder: h (B, T, N)."""
    w_enc, w_in, w_rec, _ = params
    u_in = torch.matmul(v, w_in.t())
    h = torch.matmul(p0, w_enc.t())
    hs = []
    for t in range(v.shape[1]):
        h = (1 - alpha) * h + alpha * torch.relu(torch.addmm(u_in[:, t], h, w_rec.t()))
        hs.append(h)
    return torch.stack(hs, 1)


def ratemaps(act, pos, G):
    """act (n, M), pos (n, 2) -> (M, G, G) with binned_statistic_2d, NaN empty."""
    r = [[-BOX / 2, BOX / 2], [-BOX / 2, BOX / 2]]
    return np.stack([scipy.stats.binned_statistic_2d(pos[:, 0], pos[:, 1], act[:, u], bins=G, range=r).statistic
                     for u in range(act.shape[1])])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, default=128)
    ap.add_argument("--P", type=int, default=256)
    ap.add_argument("--B", type=int, default=200)
    ap.add_argument("--T", type=int, default=20)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--target", default="dog", choices=["dog", "gaussian"])
    ap.add_argument("--ratemap-trajectories", type=int, default=4000)
    ap.add_argument("--shuffles", type=int, default=1000)
    ap.add_argument("--null-units", type=int, default=64)
    ap.add_argument("--bins", type=int, default=20)
    ap.add_argument("--format", default="md", choices=["md", "tsv"])
    a = ap.parse_args()
    B, T, E, N, P, G = a.B, a.T, 2 * a.T, a.N, a.P, a.bins
    alpha = DT / TAU
    g = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    phases = ["data", "step", "eval", "ratemap", "score", "null"]
    wall = dict.fromkeys(phases, 0.0)
    cpu = dict.fromkeys(phases, 0.0)
    mark = [time.perf_counter(), time.process_time()]

    def lap(ph):
        w, c = time.perf_counter(), time.process_time()
        wall[ph] += w - mark[0]
        cpu[ph] += c - mark[1]
        mark[0], mark[1] = w, c

    w0, c0 = time.perf_counter(), time.process_time()
    pc = PlaceCells(P, a.target, g)
    params = torch_step.init_params(N, P, g)
    opt = torch.optim.Adam(params, lr=torch_step.LR)
    lap("step")
    for s in range(a.steps):
        start, v, pos = trajectories(B, T, rng)
        p0, y = pc.codes(start), pc.codes(pos)
        lap("data")
        opt.zero_grad(set_to_none=True)
        loss = torch_step.loss_of(torch_step.fwd_loop(*params, p0, v, alpha), y, params[2])
        loss.backward()
        opt.step()
        if not torch.isfinite(loss):
            raise SystemExit("loss is %s at step %d" % (float(loss), s))
        lap("step")
    with torch.no_grad():
        start, v, pos = trajectories(B, E, rng)
        z = torch.matmul(hidden(params, pc.codes(start), v, alpha), params[3].t())
        err = (pc.decode(z) - pos).norm(dim=-1).mean(0) * 100
        lap("eval")
        acts, poss = [], []
        for done in range(0, a.ratemap_trajectories, B):
            b = min(B, a.ratemap_trajectories - done)
            start, v, pos = trajectories(b, E, rng)
            acts.append(hidden(params, pc.codes(start), v, alpha).reshape(-1, N).numpy())
            poss.append(pos.reshape(-1, 2).numpy())
        act, posn = np.concatenate(acts), np.concatenate(poss)
        maps = ratemaps(act, posn, G)
        lap("ratemap")
    masks = gridscore_ref.ring_masks(G)
    s60 = np.array([gridscore_ref.scores_of(m, masks, "mean_diff")[0] for m in maps])
    lap("score")
    kept = rng.choice(N, min(N, a.null_units), replace=False)
    n = act.shape[0]
    m_shift = min(int(round(20 / DT)), n // 4)
    null = []
    for _ in range(a.shuffles):
        u = kept[rng.integers(len(kept))]
        shifted = np.roll(act[:, u], -int(rng.integers(m_shift, n - m_shift + 1)))
        null.append(gridscore_ref.scores_of(ratemaps(shifted[:, None], posn, G)[0], masks, "mean_diff")[0])
    thr = np.nanpercentile(null, 95)
    lap("null")
    tw, tc = time.perf_counter() - w0, time.process_time() - c0
    if a.format == "tsv":
        print("N\tP\tsteps\ttorch_wall_s\ttorch_cpu_s\t" + "\t".join("%s_wall_s\t%s_cpu_s" % (p, p) for p in phases))
        print("%d\t%d\t%d\t%.3f\t%.3f\t" % (N, P, a.steps, tw, tc) +
              "\t".join("%.3f\t%.3f" % (wall[p], cpu[p]) for p in phases))
        return
    print("torch_task: torch %s, %d thread, N %d, P %d (%s), B %d, T %d, %d steps, %d rate-map trajectories, "
          "%d shuffles; final loss %.4f, error %.1f cm, max score60 %.3f, null threshold %.3f"
          % (torch.__version__, torch.get_num_threads(), N, P, a.target, B, T, a.steps, a.ratemap_trajectories,
             a.shuffles, float(loss), float(err.mean()), np.nanmax(s60), thr))
    print("| phase | wall s | cpu s | cpu ms per training step |\n|---|---|---|---|")
    for p in phases:
        print("| %s | %.3f | %.3f | %.3f |" % (p, wall[p], cpu[p], 1e3 * cpu[p] / max(a.steps, 1)))
    print("| **task** | %.3f | %.3f | %.3f |" % (tw, tc, 1e3 * tc / max(a.steps, 1)))


if __name__ == "__main__":
    main()
