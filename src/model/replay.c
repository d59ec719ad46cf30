/* replay.c -- replay evaluation: input-free runs of a network, decoded and
 * measured (docs/replay.md; Krishna et al. 2024, Casco-Rodriguez et al.
 * 2026; docs/science.md section 6).
 *
 * Legend: R replay starts, H horizon steps, N hidden units, D outputs
 * (P place cells, or 2 for the Cartesian target), P place cells, G bins per
 * side, K stored replays.
 *
 * The cell with v_t = 0 (rnn_cell_step, rnn_impl.inc; docs/science.md section 3):
 *   h_0 = W_enc p(x_0)
 *   s_t = W_rec h_{t-1} (+ b) (- a_t)
 *   a_t = (1 - lambda_a) a_{t-1} + b_a h_{t-1}, a_0 = 0        (cells that adapt)
 *   vanilla   h_t = phi(s_t) + xi_t
 *   leaky     h_t = (1 - alpha) h_{t-1} + alpha phi(s_t) + xi_t
 *   momentum  m_t = (1 - lambda_v) m_{t-1} + alpha (phi(s_t) - h_{t-1}) + xi_t, m_0 = 0
 *             h_t = h_{t-1} + m_t
 *   gru, lstm, ugrnn: their equations (rnn.h) with no input term; the
 *             product of a step is one GEMM over the stacked gate blocks,
 *             U (R, G N) = H_{t-1} W_hh^T; the lstm starts from
 *             c_0 = W_enc_c p(x_0) and the noise enters h_t
 *   x_t = place_decode(W_dec h_t)
 * The rnn module's forward always starts from W_enc p_0 and needs the
 * whole (B, T) block in its cache, so a replay of H >> Tmax steps cannot be
 * run through it; the loop below does the forward's product W_rec h_{t-1}
 * and then calls the same step, rnn_cell_step, with no input (v = NULL:
 * the W_in v_t term is skipped, where the forward with v = 0 adds an exact
 * zero) and no phi'.  tests/test_replay.c checks it against rnn_forward
 * with v = 0, bit for bit.
 */
#include "model/replay.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/traj.h"

/* z (R, D) = h (R, N) W_dec^T, then pos[r][t] = place_decode(z_r). */
static void decode_step(const Rnn *m, const PlaceCells *pc, const float *h, int R, int H, int t, float *z,
                        float *xy, float *pos)
{
    const int N = m->c.N, D = m->c.D;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, D, N, 1.0f, h, N, m->w_dec, N, 0.0f, z, D);
    place_decode(pc, z, (size_t)R, xy);
    for (int r = 0; r < R; r++) {
        size_t o = ((size_t)r * ((size_t)H + 1) + (size_t)t) * 2;
        pos[o] = xy[2 * r];
        pos[o + 1] = xy[2 * r + 1];
    }
}

static void store_hidden(const float *h, int R, int H, int N, int t, float *hidden)
{
    if (!hidden) return;
    for (int r = 0; r < R; r++)
        memcpy(hidden + ((size_t)r * ((size_t)H + 1) + (size_t)t) * N, h + (size_t)r * N, (size_t)N * sizeof(float));
}

int replay_simulate(const Rnn *m, const PlaceCells *pc, const float *start, int R, int H, float sigma, Rng *r,
                    float *pos, float *hidden, const volatile int *stop)
{
    float *blk = NULL;
    const int N = m->c.N, D = m->c.D, gated = cell_gates(m->c.cell) > 0, GN = m->G * N;
    if (R < 1 || H < 1 || N < 1 || place_dim(pc) != D || !(sigma >= 0)) goto fail;
    const size_t RN = (size_t)R * N, RD = (size_t)R * D, RGN = gated ? (size_t)R * GN : 0;
    /* code (R, D) | z (R, D) | xy (R, 2) | h ping-pong 2 x (R, N) | a (R, N) | m (R, N; lstm: c) | xi (R, N)
     * | u (R, G N; gated cells) */
    blk = malloc((2 * RD + 2 * (size_t)R + 5 * RN + RGN) * sizeof(float));
    if (!blk) goto fail;
    float *code = blk, *z = code + RD, *xy = z + RD, *hbuf[2] = {xy + 2 * (size_t)R, xy + 2 * (size_t)R + RN};
    float *st_a = hbuf[1] + RN, *st_m = st_a + RN, *xi = st_m + RN, *u = xi + RN;
    memset(st_a, 0, RN * sizeof(float)); /* a_0 = 0 */
    memset(st_m, 0, RN * sizeof(float)); /* m_0 = 0 */

    /* h_0 = W_enc p(x_0):  H0 (R, N) = Code (R, D) W_enc^T */
    place_encode(pc, start, (size_t)R, code);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, N, D, 1.0f, code, D, m->w_enc, D, 0.0f, hbuf[0], N);
    if (m->c.cell == CELL_LSTM) /* c_0 = W_enc_c p(x_0) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, N, D, 1.0f, code, D, m->w_enc_c, D, 0.0f, st_m, N);
    store_hidden(hbuf[0], R, H, N, 0, hidden);
    decode_step(m, pc, hbuf[0], R, H, 0, z, xy, pos);
    for (int t = 1; t <= H; t++) {
        if (stop && *stop) {
            free(blk);
            return 1;
        }
        const float *hp = hbuf[(t - 1) & 1];
        float *hc = hbuf[t & 1];
        if (gated) /* every gate block at once: U (R, GN) = Hp (R, N) W_rec^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, GN, N, 1.0f, hp, N, m->w_rec, N, 0.0f, u, GN);
        else /* W_rec h_{t-1} for every replay: (R, N) = Hp (R, N) W_rec^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, N, N, 1.0f, hp, N, m->w_rec, N, 0.0f, hc, N);
        if (sigma > 0) rng_normal_fill(r, xi, RN, sigma);
        for (int b = 0; b < R; b++) {
            size_t o = (size_t)b * N;
            rnn_cell_step(m, hc + o, hp + o, gated ? u + (size_t)b * GN : NULL, NULL, sigma > 0 ? xi + o : NULL,
                          NULL, st_a + o, st_m + o);
        }
        store_hidden(hc, R, H, N, t, hidden);
        decode_step(m, pc, hc, R, H, t, z, xy, pos);
    }
    free(blk);
    return 0;
fail:
    free(blk);
    return -1;
}

int replay_bin(const Arena *a, int G, double x, double y)
{
    if (!(x >= a->xmin && x <= a->xmax && y >= a->ymin && y <= a->ymax)) return -1; /* also NaN */
    int i = (int)floor((x - a->xmin) * G / (a->xmax - a->xmin));
    int j = (int)floor((y - a->ymin) * G / (a->ymax - a->ymin));
    if (i > G - 1) i = G - 1; /* x == xmax */
    if (j > G - 1) j = G - 1;
    return j * G + i;
}

int replay_mask(const Arena *a, int G, unsigned char *mask)
{
    int n_in = 0;
    const double wx = (a->xmax - a->xmin) / G, wy = (a->ymax - a->ymin) / G;
    for (int j = 0; j < G; j++)
        for (int i = 0; i < G; i++) {
            /* bin centre (xmin + (i + 1/2) wx, ymin + (j + 1/2) wy) */
            int in = arena_contains(a, a->xmin + (i + 0.5) * wx, a->ymin + (j + 0.5) * wy) != 0;
            mask[j * G + i] = (unsigned char)in;
            n_in += in;
        }
    return n_in;
}

int replay_real(const Arena *a, const TaskConfig *cfg, int B, int T, int G, Rng *r, double *counts,
                double *mean_step)
{
    TrajBatch tb = {0};
    if (B < 1 || T < 1 || G < 1) goto fail;
    /* one trajectory per call: traj_generate draws trajectory after
     * trajectory, so this equals one call for (B, T) */
    if (traj_alloc(&tb, 1, T) != 0) goto fail;
    double sum = 0;
    for (int b = 0; b < B; b++) {
        traj_generate(&tb, a, cfg, r);
        for (int t = 0; t < T; t++) sum += hypot((double)tb.v[2 * t], (double)tb.v[2 * t + 1]); /* |v_t| */
        for (int t = 0; t <= T; t++) {
            int k = replay_bin(a, G, tb.pos[2 * t], tb.pos[2 * t + 1]);
            if (k >= 0) counts[k] += 1;
        }
    }
    *mean_step = sum / ((double)B * T);
    traj_free(&tb);
    return 0;
fail:
    traj_free(&tb);
    return -1;
}

double replay_kl(const double *p, const double *q, const unsigned char *mask, int G)
{
    /* D(P || Q) = sum_g P_g log(P_g / Q_g) over in-arena bins g, with
     * P_g = (p_g / sum p + e) / (1 + G_in e), e = REPLAY_KL_SMOOTH / G_in */
    double sp = 0, sq = 0;
    int n_in = 0;
    for (int g = 0; g < G * G; g++)
        if (mask[g]) {
            sp += p[g];
            sq += q[g];
            n_in++;
        }
    if (!(sp > 0) || !(sq > 0)) return NAN;
    const double e = REPLAY_KL_SMOOTH / n_in, norm = 1.0 + n_in * e;
    double kl = 0;
    for (int g = 0; g < G * G; g++)
        if (mask[g]) {
            double P = (p[g] / sp + e) / norm, Q = (q[g] / sq + e) / norm;
            kl += P * log(P / Q);
        }
    return kl;
}

int replay_metrics(const float *pos, int R, int H, int burn_in, const Arena *a, int G, const double *real,
                   ReplayMetrics *met, double *occ)
{
    unsigned char *mask = NULL;
    int *first = NULL;
    double *cnt = NULL;
    if (R < 1 || H < 1 || G < 1 || burn_in < 0) goto fail;
    const size_t GG = (size_t)G * G, L = (size_t)H + 1;
    mask = malloc(GG);
    first = malloc(GG * sizeof *first);
    cnt = calloc(GG, sizeof *cnt);
    if (!mask || !first || !cnt) goto fail;
    const int n_in = replay_mask(a, G, mask);

    /* speed = mean_{r, t < H} |x_{t+1} - x_t|, cm per step */
    double sd = 0;
    for (int r = 0; r < R; r++) {
        const float *p = pos + (size_t)r * L * 2;
        for (int t = 0; t < H; t++)
            sd += hypot((double)p[2 * t + 2] - p[2 * t], (double)p[2 * t + 3] - p[2 * t + 1]);
    }
    met->speed_cm = 100.0 * sd / ((double)R * H);

    /* spread = mean_{t = burn_in..H} (var_r x_t + var_r y_t), var with 1/(R-1), cm^2 */
    met->spread_cm2 = NAN;
    if (R >= 2 && burn_in <= H) {
        double st = 0;
        for (int t = burn_in; t <= H; t++) {
            double mx = 0, my = 0, vx = 0, vy = 0;
            for (int r = 0; r < R; r++) {
                mx += pos[((size_t)r * L + t) * 2];
                my += pos[((size_t)r * L + t) * 2 + 1];
            }
            mx /= R;
            my /= R;
            for (int r = 0; r < R; r++) {
                double dx = pos[((size_t)r * L + t) * 2] - mx, dy = pos[((size_t)r * L + t) * 2 + 1] - my;
                vx += dx * dx;
                vy += dy * dy;
            }
            st += (vx + vy) / (R - 1);
        }
        met->spread_cm2 = 1e4 * st / (H - burn_in + 1);
    }

    /* exploration: V_r = in-arena bins visited by replay r over t = 0..H,
     * tau_{r,g} = first t with x_t in g;  coverage = mean_r |V_r| / G_in,
     * mean_first_visit = mean over (r, g in V_r) of tau_{r,g};
     * outside = fraction of x_t not in an in-arena bin;
     * occupancy: counts of x_t, t >= burn_in, per bin */
    double cov = 0, tau_sum = 0, n_vis = 0, n_out = 0;
    for (int r = 0; r < R; r++) {
        for (size_t g = 0; g < GG; g++) first[g] = -1;
        int nv = 0;
        const float *p = pos + (size_t)r * L * 2;
        for (int t = 0; t <= H; t++) {
            int k = replay_bin(a, G, p[2 * t], p[2 * t + 1]);
            if (k >= 0 && t >= burn_in) cnt[k] += 1;
            if (k < 0 || !mask[k]) {
                n_out += 1;
                continue;
            }
            if (first[k] < 0) {
                first[k] = t;
                nv++;
                tau_sum += t;
            }
        }
        n_vis += nv;
        cov += n_in > 0 ? (double)nv / n_in : 0;
    }
    met->coverage = n_in > 0 ? cov / R : NAN;
    met->mean_first_visit = n_vis > 0 ? tau_sum / n_vis : NAN;
    met->outside = n_out / ((double)R * L);
    met->kl = replay_kl(cnt, real, mask, G);
    if (occ) memcpy(occ, cnt, GG * sizeof *occ);
    free(mask);
    free(first);
    free(cnt);
    return 0;
fail:
    free(mask);
    free(first);
    free(cnt);
    return -1;
}

/* occupancy probabilities over in-arena bins (NaN outside) from counts */
static void occ_prob(const double *c, const unsigned char *mask, int G, float *out)
{
    double s = 0;
    for (int g = 0; g < G * G; g++)
        if (mask[g]) s += c[g];
    for (int g = 0; g < G * G; g++) out[g] = mask[g] ? (float)(s > 0 ? c[g] / s : 0) : NAN;
}

int replay_run(const Rnn *m, const PlaceCells *pc, const Arena *a, const TaskConfig *cfg, const volatile int *stop,
               ReplayResult *out)
{
    int rc = -1;
    float *pos = NULL, *start = NULL;
    double *real = NULL, *occ = NULL, *unif = NULL;
    unsigned char *mask = NULL;
    Rnn m0 = {0};
    const int R = out->R, H = out->H, G = out->G, K = out->n_keep;
    if (R != cfg->replay_starts || H != cfg->replay_steps || G != cfg->ratemap_bins || K > R) goto fail;
    const size_t GG = (size_t)G * G;
    pos = malloc((size_t)R * ((size_t)H + 1) * 2 * sizeof *pos);
    start = malloc((size_t)R * 2 * sizeof *start);
    real = calloc(GG, sizeof *real);
    occ = calloc(GG, sizeof *occ);
    unif = calloc(GG, sizeof *unif);
    mask = malloc(GG);
    if (!pos || !start || !real || !occ || !unif || !mask) goto fail;
    out->n_in = replay_mask(a, G, mask);
    /* sigma_r = sqrt(replay_noise_var) * sigma_train (Krishna et al. 2024: twice the variance) */
    const float sigma = (float)(sqrt(cfg->replay_noise_var) * cfg->noise);
    out->sigma = sigma;

    /* the stream, in order: real trajectories, starts, then noise */
    Rng r;
    rng_seed(&r, (uint64_t)cfg->seed, RNG_REPLAY);
    double step_m = 0;
    if (replay_real(a, cfg, R, H, G, &r, real, &step_m) != 0) goto fail;
    for (int b = 0; b < R; b++) {
        double x, y;
        arena_sample(a, &r, &x, &y);
        start[2 * b] = (float)x;
        start[2 * b + 1] = (float)y;
    }

    /* trained network */
    ReplayMetrics met;
    Rng rn = r;
    if ((rc = replay_simulate(m, pc, start, R, H, sigma, &rn, pos, NULL, stop)) != 0) goto fail;
    rc = -1;
    if (replay_metrics(pos, R, H, cfg->replay_burn_in, a, G, real, &met, occ) != 0) goto fail;
    out->speed_cm = (float)met.speed_cm;
    out->real_step_cm = (float)(100.0 * step_m);
    out->speed_ratio = (float)(met.speed_cm / (100.0 * step_m));
    out->spread_cm2 = (float)met.spread_cm2;
    out->coverage = (float)met.coverage;
    out->mean_first_visit = (float)met.mean_first_visit;
    out->outside = (float)met.outside;
    out->kl = (float)met.kl;
    for (size_t g = 0; g < GG; g++) unif[g] = mask[g];
    out->kl_uniform = (float)replay_kl(unif, real, mask, G);
    if (K > 0) memcpy(out->traj, pos, (size_t)K * ((size_t)H + 1) * 2 * sizeof *pos); /* replays 0..K-1 */
    occ_prob(occ, mask, G, out->occ);
    occ_prob(real, mask, G, out->occ_real);

    /* untrained baseline: same architecture at its RNG_INIT weights, same starts and noise */
    Rng ri;
    rng_seed(&ri, (uint64_t)cfg->seed, RNG_INIT);
    if (rnn_alloc_config(&m0, &m->c, 1, 1) != 0) goto fail;
    rnn_init(&m0, &ri);
    rn = r;
    if ((rc = replay_simulate(&m0, pc, start, R, H, sigma, &rn, pos, NULL, stop)) != 0) goto fail;
    rc = -1;
    if (replay_metrics(pos, R, H, cfg->replay_burn_in, a, G, real, &met, NULL) != 0) goto fail;
    out->kl_untrained = (float)met.kl;
    rc = 0;
fail:
    rnn_free(&m0);
    free(pos);
    free(start);
    free(real);
    free(occ);
    free(unif);
    free(mask);
    return rc;
}
