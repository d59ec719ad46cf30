/* rnn.c -- the networks in two precisions from one implementation.
 *
 * Legend: B batch, T steps, N hidden, D outputs, I = 2 inputs.
 *
 * src/rnn_impl.inc holds the model (forward, BPTT, loss, init), written
 * once over a real type; it is included here twice:
 *   float  with cblas_sgemm -> Rnn,  rnn_*   (training)
 *   double with cblas_dgemm -> RnnD, rnnd_*  (finite-difference tests)
 * RNN_EXP / RNN_LOG / RNN_TANH are the libm functions of the real type.
 * The equations and their gradients: docs/model-rnn.md.
 */
#include "rnn.h"

#include <assert.h>
#include <cblas.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

/* Cells with adaptation a_t (the drive is u_t - a_t). */
static int cell_has_adapt(int cell) { return cell == CELL_ADAPTIVE || cell == CELL_ADAPTIVE_MOMENTUM; }

void rnn_config_from_task(RnnConfig *rc, const TaskConfig *cfg, int D)
{
    memset(rc, 0, sizeof *rc);
    rc->N = cfg->hidden;
    rc->D = D;
    rc->n_in = RNN_I;
    rc->cell = cfg->cell;
    rc->act = cfg->activation;
    rc->bias = cfg->bias != 0;
    rc->cartesian = cfg->target == TARGET_CARTESIAN;
    rc->alpha = config_alpha(cfg); /* dt / tau; 1 for vanilla */
    rc->lambda_a = cfg->lambda_a;
    rc->b_a = cfg->b_a;
    rc->lambda_v = cfg->lambda_v;
    rc->weight_decay = cfg->weight_decay;
    rc->rate_l2 = cfg->rate_l2;
}

#define RNN_REAL float
#define RNN_T Rnn
#define RNN_FN(name) rnn_##name
#define RNN_GEMM cblas_sgemm
#define RNN_EXP expf
#define RNN_LOG logf
#define RNN_TANH tanhf
#include "rnn_impl.inc"
#undef RNN_REAL
#undef RNN_T
#undef RNN_FN
#undef RNN_GEMM
#undef RNN_EXP
#undef RNN_LOG
#undef RNN_TANH

#define RNN_REAL double
#define RNN_T RnnD
#define RNN_FN(name) rnnd_##name
#define RNN_GEMM cblas_dgemm
#define RNN_EXP exp
#define RNN_LOG log
#define RNN_TANH tanh
#include "rnn_impl.inc"
#undef RNN_REAL
#undef RNN_T
#undef RNN_FN
#undef RNN_GEMM
#undef RNN_EXP
#undef RNN_LOG
#undef RNN_TANH

int rnn_alloc(Rnn *m, const TaskConfig *cfg, int D, int Bmax, int Tmax)
{
    RnnConfig rc;
    rnn_config_from_task(&rc, cfg, D);
    return rnn_alloc_config(m, &rc, Bmax, Tmax);
}
