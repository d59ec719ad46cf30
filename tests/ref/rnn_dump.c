/* rnn_dump.c -- writes what tests/ref/rnn_torch.py needs to check the float
 * network against PyTorch: for every case, the initial parameters, the
 * inputs, the noise, the targets, and what this code computes from them
 * (loss, its parts, every gradient, hidden states, outputs, and the
 * parameters after 5 Adam steps on the same batch and noise).
 *
 *   rnn_dump OUTDIR        writes OUTDIR/case_NN/{manifest.txt, *.f32}
 *
 * Legend: B batch, T steps, N hidden, D outputs, I = 2 or 3 network
 * inputs, G gate blocks (1 for the non-gated cells).
 * Files are raw little-endian float32, row-major:
 *   params0.f32 (n_params)  the blob of rnn.h: w_enc (N,D) | w_in (GN,I) |
 *                           w_rec (GN,N) | w_dec (D,N) | b (GN, with bias) |
 *                           b_hh (GN; gru, lstm with bias) | w_enc_c (N,D; lstm)
 *   p0.f32 (B,D)  v.f32 (B,T,2) displacements  y.f32 (B,T,D)  noise.f32 (B,T,N)
 *   grads.f32 (n_params)    gradient at params0 (before any clipping)
 *   hidden.f32 (B,T,N)      h_1..h_T at params0
 *   output.f32 (B,T,D)      z_1..z_T at params0
 *   losses.f32 (S)          loss before each of the S Adam steps
 *   params_final.f32 (n_params)  after S steps of forward, backward,
 *                           grad_clip_norm (if clip > 0), adam_step
 * manifest.txt holds "key value" lines (sizes, settings, losses).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/adam.h"
#include "model/rng.h"
#include "model/rnn.h"

enum { B = 4, T = 7, N = 16, DP = 10, STEPS = 5 };

static int write_f32(const char *dir, const char *name, const float *x, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(x, sizeof(float), n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

/* One case: cell, activation, bias, target, penalties, clipping. */
static int run_case(const char *dir, int idx, int cell, int act, int bias, int cart, double wd, double rl2,
                    double clip, int use_noise, int input)
{
    char sub[512];
    snprintf(sub, sizeof sub, "%s/case_%02d", dir, idx);
    mkdir(sub, 0777);
    const int D = cart ? 2 : DP;
    const double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    RnnConfig c = {.N = N, .D = D, .n_in = input_dim(input), .input = input, .dt = 0.02, .cell = cell, .act = act, .bias = bias, .cartesian = cart,
                   .alpha = cell == CELL_VANILLA ? 1.0 : 0.25, .lambda_a = 0.3, .b_a = 0.4, .lambda_v = 0.35,
                   .weight_decay = wd, .rate_l2 = rl2};
    Rnn m = {0};
    Adam opt = {0};
    FILE *mf = NULL;
    float *p0 = malloc(B * D * sizeof *p0), *v = malloc(B * T * RNN_I * sizeof *v);
    float *y = malloc(B * T * D * sizeof *y), *noise = malloc(B * T * N * sizeof *noise);
    float losses[STEPS];
    if (!p0 || !v || !y || !noise) goto fail;
    if (rnn_alloc_config(&m, &c, B, T) != 0) goto fail;
    if (adam_alloc(&opt, m.n_params, lr, b1, b2, eps) != 0) goto fail;
    Rng r;
    rng_seed(&r, (uint64_t)(100 + idx), RNG_INIT);
    rnn_init(&m, &r);
    rng_seed(&r, (uint64_t)(100 + idx), RNG_SAMPLE);
    for (int i = 0; i < B * D; i++) p0[i] = cart ? (float)(2.2 * rng_uniform(&r) - 1.1) : (float)rng_uniform(&r);
    for (int i = 0; i < B * T * RNN_I; i++) v[i] = (float)(rng_uniform(&r) - 0.5);
    for (int row = 0; row < B * T; row++) {
        float *yr = y + row * D, s = 0;
        for (int i = 0; i < D; i++) s += (yr[i] = cart ? (float)(2.2 * rng_uniform(&r) - 1.1) : (float)rng_uniform(&r));
        if (!cart)
            for (int i = 0; i < D; i++) yr[i] /= s;
    }
    rng_normal_fill(&r, noise, (size_t)B * T * N, 0.05f);
    const float *nz = use_noise ? noise : NULL;

    if (write_f32(sub, "params0.f32", m.params, m.n_params) || write_f32(sub, "p0.f32", p0, B * D) ||
        write_f32(sub, "v.f32", v, B * T * RNN_I) || write_f32(sub, "y.f32", y, B * T * D) ||
        write_f32(sub, "noise.f32", noise, B * T * N))
        goto fail;
    for (int s = 0; s < STEPS; s++) {
        losses[s] = rnn_forward(&m, p0, v, y, nz, B, T);
        if (rnn_backward(&m) != 0) goto fail;
        if (s == 0) {
            char path[600];
            snprintf(path, sizeof path, "%s/manifest.txt", sub);
            mf = fopen(path, "w");
            if (!mf) goto fail;
            fprintf(mf, "N %d\nD %d\nB %d\nT %d\nn_params %zu\nG %d\nn_in %d\ninput %d\ndt %.17g\n", N, D, B, T,
                    m.n_params, m.G, c.n_in, input, c.dt);
            fprintf(mf, "cell %d\nact %d\nbias %d\ncartesian %d\nnoise %d\n", cell, act, bias, cart, use_noise);
            fprintf(mf, "alpha %.17g\nlambda_a %.17g\nb_a %.17g\nlambda_v %.17g\n", c.alpha, c.lambda_a, c.b_a,
                    c.lambda_v);
            fprintf(mf, "weight_decay %.17g\nrate_l2 %.17g\nclip %.17g\n", wd, rl2, clip);
            fprintf(mf, "lr %.17g\nbeta1 %.17g\nbeta2 %.17g\neps %.17g\nsteps %d\n", lr, b1, b2, eps, STEPS);
            fprintf(mf, "loss %.9g\nloss_data %.9g\nloss_wd %.9g\nloss_rate %.9g\n", m.loss, m.loss_data,
                    m.loss_wd, m.loss_rate);
            if (fclose(mf) != 0) {
                mf = NULL;
                goto fail;
            }
            mf = NULL;
            if (write_f32(sub, "grads.f32", m.grads, m.n_params) ||
                write_f32(sub, "hidden.f32", rnn_hidden(&m, 0, 1), (size_t)B * T * N) ||
                write_f32(sub, "output.f32", rnn_output(&m), (size_t)B * T * D))
                goto fail;
        }
        if (clip > 0) grad_clip_norm(m.grads, m.n_params, (float)clip);
        adam_step(&opt, m.params, m.grads);
    }
    if (write_f32(sub, "losses.f32", losses, STEPS) || write_f32(sub, "params_final.f32", m.params, m.n_params))
        goto fail;
    rnn_free(&m);
    adam_free(&opt);
    free(p0), free(v), free(y), free(noise);
    return 0;
fail:
    if (mf) fclose(mf);
    fprintf(stderr, "rnn_dump: case %d failed\n", idx);
    rnn_free(&m);
    adam_free(&opt);
    free(p0), free(v), free(y), free(noise);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: rnn_dump OUTDIR\n");
        return 2;
    }
    mkdir(argv[1], 0777);
    int idx = 0, rc = 0;
    /* every cell x activation, place-cell (cross-entropy) targets */
    for (int cell = 0; cell < CELL_COUNT; cell++)
        for (int act = 0; act < ACT_COUNT; act++) {
            if (cell_gates(cell)) continue; /* below */
            int k = cell * ACT_COUNT + act;
            rc |= run_case(argv[1], idx++, cell, act, k % 2, 0, k % 3 ? 1e-3 : 0, k % 2 ? 1e-2 : 0,
                           k % 4 == 1 ? 0.05 : 0, k % 5 != 4, INPUT_VELOCITY);
        }
    /* Cartesian MSE target, every non-gated cell */
    for (int cell = 0; cell < CELL_COUNT; cell++)
        if (!cell_gates(cell))
            rc |= run_case(argv[1], idx++, cell, cell % ACT_COUNT, 1 - cell % 2, 1, 1e-3, 1e-2, cell == 2 ? 0.05 : 0, 1,
                           INPUT_VELOCITY);
    /* the gated cells (torch.nn.GRU, torch.nn.LSTM, UGRNN written out): bias x input with
     * cross-entropy, and the Cartesian target; penalties, noise and clipping varied */
    for (int cell = 0; cell < CELL_COUNT; cell++)
        for (int k = 0; k < 5 && cell_gates(cell); k++) {
            int cart = k == 4, bias = k % 2, input = k / 2 % 2;
            rc |= run_case(argv[1], idx++, cell, ACT_RELU, bias, cart, k % 3 ? 1e-3 : 0, k % 2 ? 1e-2 : 0,
                           k == 3 ? 0.05 : 0, k != 2, input);
        }
    /* the speed_heading input of two non-gated cells */
    rc |= run_case(argv[1], idx++, CELL_LEAKY, ACT_RELU, 1, 0, 1e-3, 1e-2, 0, 1, INPUT_SPEED_HEADING);
    rc |= run_case(argv[1], idx++, CELL_MOMENTUM, ACT_TANH, 0, 1, 1e-3, 0, 0, 1, INPUT_SPEED_HEADING);
    return rc ? 1 : 0;
}
