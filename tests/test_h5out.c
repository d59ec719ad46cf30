/* test_h5out.c -- the result file on one rank (MPI singleton): create,
 * write tasks of different sizes, read them back, refuse what must be
 * refused (an existing file, another spec, other rows, a non-HDF5 file).
 * The multi-rank paths are tested by tests/t_mpi_*.sh. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/h5out.h"
#include "testlib.h"

static void fill_result(TaskResult *r, int id)
{
    for (int i = 0; i < r->n_log; i++) {
        r->train_loss[i] = 1.0f / (float)(i + 1) + (float)id;
        r->train_err_cm[i] = 10.0f * (float)i + (float)id;
    }
    for (int i = 0; i < r->n_levels * r->eval_len; i++) r->eval_err_cm[i] = 0.5f * (float)i + (float)id;
    for (int i = 0; i < r->n_units; i++) {
        r->score60[i] = 0.01f * (float)i - 0.2f;
        r->score90[i] = -0.01f * (float)i;
        r->border[i] = 0.001f * (float)(i * id);
        r->mask60[i] = (signed char)(i % 10);
        r->grid_p[i] = (float)i / (float)r->n_units;
        r->grid_null[i] = (signed char)(i % 2);
    }
    r->null_threshold = 0.42f;
    r->grid_frac_null = 0.25f;
    for (int i = 0; i < r->n_units; i++) { /* classes and geometry: every field distinct */
        r->grid_class[i] = (signed char)(i % GRIDCLASS_N);
        r->n_peaks[i] = (signed char)(i % 9);
        r->spacing_cm[i] = 40.0f + (float)i;
        r->orientation_deg[i] = -30.0f + (float)i;
        r->ellipticity[i] = 1.0f / (float)(i + 1);
        r->band[i] = 0.01f * (float)i;
        r->ramp_r2[i] = 0.02f * (float)i;
        r->coherence[i] = 0.03f * (float)i;
        r->spatial_info[i] = 0.04f * (float)i + (float)id;
    }
    for (int c = 0; c < GRIDCLASS_N; c++) r->frac_class[c] = (float)(c + id) / 64.0f;
    r->grid_spacing_cm = 55.5f;
    r->grid_orient_sd_deg = 4.25f;
    r->grid_ellipticity = 0.875f;
    for (int m = 0; m < r->n_maps * RESULT_PEAK_FLOATS; m++) r->map_peaks[m] = 0.5f * (float)m - 3.0f;
    for (int k = 0; k < r->n_snap; k++) {
        r->snap_step[k] = 5 * k;
        r->snap_max_score60[k] = 0.1f * (float)k;
        r->snap_mean_score60[k] = -0.1f * (float)k;
        r->snap_grid_frac[k] = 0.01f * (float)(k + id);
    }
    for (int k = 0; k < GRIDCLASS_N * r->n_snap; k++) r->snap_frac[k] = (float)k / 100.0f;
    for (int m = 0; m < r->n_maps; m++) {
        r->map_unit[m] = r->n_units - 1 - m;
        for (int k = 0; k < r->bins * r->bins; k++)
            r->ratemaps[(size_t)m * (size_t)(r->bins * r->bins) + (size_t)k] = (float)(m * 1000 + k);
    }
    ReplayResult *p = &r->replay; /* replay on: every field distinct */
    if (p->traj) {
        float *f[] = {&p->sigma, &p->speed_cm, &p->real_step_cm, &p->speed_ratio, &p->spread_cm2, &p->coverage,
                      &p->mean_first_visit, &p->outside, &p->kl, &p->kl_uniform, &p->kl_untrained};
        for (int k = 0; k < 11; k++) *f[k] = 0.5f * (float)k + (float)id;
        p->n_in = 30 + id;
        for (int k = 0; k < p->n_keep * (p->H + 1) * 2; k++) p->traj[k] = 0.001f * (float)k - 0.3f;
        for (int k = 0; k < p->G * p->G; k++) {
            p->occ[k] = (float)k / (float)(p->G * p->G);
            p->occ_real[k] = k % 3 ? 0.01f * (float)k : NAN;
        }
    }
    r->wall_s = 1.5 + id;
    r->train_s = 1.0;
    r->eval_s = 0.5;
    r->steps_done = r->log_step[r->n_log - 1];
    r->final_loss = r->train_loss[r->n_log - 1];
    r->final_err_cm = 3.25f;
    r->grid_frac = 0.125f;
    r->max_score60 = 0.9f;
    r->mean_score60 = 0.1f;
}

static int same_f(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) return 0;
    return 1;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    char path[] = "/tmp/test_h5out_XXXXXX";
    int fd = mkstemp(path);
    TEST_CHECK(fd >= 0, "mkstemp");
    close(fd);
    unlink(path);

    /* three tasks of different sizes: the second saves its top rate maps */
    TaskConfig tasks[3];
    for (int i = 0; i < 3; i++) {
        config_defaults(&tasks[i]);
        tasks[i].steps = 10 * (i + 1);
        tasks[i].log_every = 5;
        tasks[i].seq_len = 4 + i;
        tasks[i].hidden = 8 << i;
        tasks[i].seed = i;
        tasks[i].n_eval_noise = 2;
        tasks[i].eval_noise[1] = 0.1;
    }
    tasks[0].cell = CELL_VANILLA;
    tasks[1].cell = CELL_LEAKY;
    tasks[1].save_ratemaps = SAVE_TOP;
    tasks[1].save_top_k = 3;
    tasks[1].ratemap_bins = 6;
    /* snapshots: task 1 every 5 steps (K = 5), task 2 every 10 (K = 4) */
    tasks[1].snapshot_every = 5;
    tasks[2].snapshot_every = 10;
    /* tasks 1 and 2 run the replay stage, of different sizes */
    tasks[1].replay = tasks[2].replay = 1;
    tasks[1].replay_starts = 5;
    tasks[1].replay_steps = 7;
    tasks[1].replay_keep = 2;
    tasks[1].replay_burn_in = 2;
    tasks[2].replay_starts = 2; /* keep 4 > starts: K = 2 */
    tasks[2].replay_steps = 12;
    tasks[2].replay_burn_in = 2;
    int ids[3] = {0, 1, 2};
    const char *axes[] = {"hidden", "seed"};
    double levels[2] = {0.0, 0.1};
    H5OutMeta meta = {.spec_text = "model: {hidden: 8}\n", .spec_canonical = "hidden: [8, 16, 32]\nseed: 0\n",
                      .spec_hash = "abc123", .command_line = "sweep test.yaml", .shard = NULL, .n_tasks = 3,
                      .n_axes = 2, .axes = axes, .n_eval_noise = 2, .eval_noise = levels};
    char err[2048] = "";
    H5Out *o = NULL, *o2 = NULL;
    H5OutDims dm;
    int rc = h5out_create(&o, path, &meta, tasks, ids, 3, MPI_COMM_WORLD, err, sizeof err);
    TEST_CHECK(rc == 0 && o != NULL, "create: %s", err);
    h5out_dims(o, &dm);
    TEST_CHECK(dm.R == 3 && h5out_n_rows(o) == 3 && dm.N == 32 && dm.S == 2 && dm.M == 3 && dm.G == 6,
               "dims R%d N%d S%d M%d G%d", dm.R, dm.N, dm.S, dm.M, dm.G);
    TEST_CHECK(dm.L == config_n_logged(&tasks[2]) && dm.E == config_eval_len(&tasks[2]), "L %d E %d", dm.L, dm.E);
    TEST_CHECK(dm.has_replay && dm.RK == 2 && dm.RH == 13 && dm.RG == 20, "replay dims %d K%d H%d G%d",
               dm.has_replay, dm.RK, dm.RH, dm.RG);
    TEST_CHECK(strcmp(h5out_path(o), path) == 0, "path %s", h5out_path(o));
    TEST_CHECK(dm.has_snap && dm.KS == 5, "snapshot dims %d KS%d", dm.has_snap, dm.KS);

    TaskResult res[3];
    for (int i = 0; i < 3; i++) {
        TEST_CHECK(result_alloc(&res[i], &tasks[i]) == 0, "alloc");
        fill_result(&res[i], i);
    }
    res[1].status = TASK_DONE;
    res[2].status = TASK_DIVERGED;
    snprintf(res[2].message, sizeof res[2].message, "loss became NaN at step 15");
    TEST_CHECK(h5out_write_task(o, 1, &tasks[1], &res[1], 7) == 0, "write 1");
    TEST_CHECK(h5out_write_task(o, 2, &tasks[2], &res[2], 3) == 0, "write 2");
    int st[3] = {-1, -1, -1};
    TEST_CHECK(h5out_read_status(o, st) == 0, "read status");
    TEST_CHECK(st[0] == TASK_PENDING && st[1] == TASK_DONE && st[2] == TASK_DIVERGED, "status %d %d %d", st[0],
               st[1], st[2]);
    TEST_CHECK(h5out_close(o) == 0, "close");

    /* an existing file is refused, and left alone */
    rc = h5out_create(&o, path, &meta, tasks, ids, 3, MPI_COMM_WORLD, err, sizeof err);
    TEST_CHECK(rc == -1 && strstr(err, "exists") && o == NULL, "existing file refused: %s", err);

    /* reopen read-only and read everything back */
    rc = h5out_open(&o, path, 0, MPI_COMM_WORLD, err, sizeof err);
    TEST_CHECK(rc == 0, "open: %s", err);
    h5out_dims(o, &dm);
    TEST_CHECK(dm.R == 3 && h5out_task_id(o, 2) == 2 && dm.M == 3 && dm.G == 6, "reopened dims");
    TEST_CHECK(dm.has_replay && dm.RK == 2 && dm.RH == 13 && dm.RG == 20, "reopened replay dims");
    TEST_CHECK(h5out_check(o, &meta, ids, 3, err, sizeof err) == 0, "check same spec: %s", err);
    for (int i = 1; i < 3; i++) {
        TaskResult back;
        int rank = -1;
        TEST_CHECK(result_alloc(&back, &tasks[i]) == 0, "alloc");
        TEST_CHECK(h5out_read_task(o, i, &back, &rank) == 0, "read task %d", i);
        TEST_CHECK(back.status == res[i].status, "status %d", back.status);
        TEST_CHECK(rank == (i == 1 ? 7 : 3), "rank %d", rank);
        TEST_CHECK(strcmp(back.message, res[i].message) == 0, "message '%s'", back.message);
        TEST_CHECK(back.wall_s == res[i].wall_s && back.steps_done == res[i].steps_done, "timings");
        TEST_CHECK(back.final_err_cm == 3.25f && back.grid_frac == 0.125f, "summary");
        TEST_CHECK(memcmp(back.log_step, res[i].log_step, (size_t)back.n_log * sizeof(int)) == 0, "steps");
        TEST_CHECK(same_f(back.train_loss, res[i].train_loss, (size_t)back.n_log), "loss");
        TEST_CHECK(same_f(back.train_err_cm, res[i].train_err_cm, (size_t)back.n_log), "train err");
        TEST_CHECK(same_f(back.eval_err_cm, res[i].eval_err_cm, (size_t)(back.n_levels * back.eval_len)),
                   "eval err");
        TEST_CHECK(same_f(back.score60, res[i].score60, (size_t)back.n_units), "score60");
        TEST_CHECK(same_f(back.border, res[i].border, (size_t)back.n_units), "border");
        TEST_CHECK(memcmp(back.mask60, res[i].mask60, (size_t)back.n_units) == 0, "mask60");
        TEST_CHECK(same_f(back.grid_p, res[i].grid_p, (size_t)back.n_units), "grid_p");
        TEST_CHECK(memcmp(back.grid_null, res[i].grid_null, (size_t)back.n_units) == 0, "grid_null");
        TEST_CHECK(back.null_threshold == 0.42f && back.grid_frac_null == 0.25f, "null summary");
        {
            size_t N = (size_t)back.n_units, K = (size_t)back.n_snap;
            TEST_CHECK(memcmp(back.grid_class, res[i].grid_class, N) == 0 &&
                           memcmp(back.n_peaks, res[i].n_peaks, N) == 0 &&
                           same_f(back.spacing_cm, res[i].spacing_cm, N) &&
                           same_f(back.orientation_deg, res[i].orientation_deg, N) &&
                           same_f(back.ellipticity, res[i].ellipticity, N) && same_f(back.band, res[i].band, N) &&
                           same_f(back.ramp_r2, res[i].ramp_r2, N) && same_f(back.coherence, res[i].coherence, N) &&
                           same_f(back.spatial_info, res[i].spatial_info, N),
                       "classes and geometry of task %d", i);
            TEST_CHECK(same_f(back.frac_class, res[i].frac_class, GRIDCLASS_N) && back.frac_grid == res[i].frac_grid &&
                           back.grid_spacing_cm == 55.5f && back.grid_orient_sd_deg == 4.25f &&
                           back.grid_ellipticity == 0.875f,
                       "class columns of task %d", i);
            TEST_CHECK(K == (size_t)config_n_snapshots(&tasks[i]) &&
                           memcmp(back.snap_step, res[i].snap_step, K * sizeof(int)) == 0 &&
                           same_f(back.snap_max_score60, res[i].snap_max_score60, K) &&
                           same_f(back.snap_mean_score60, res[i].snap_mean_score60, K) &&
                           same_f(back.snap_grid_frac, res[i].snap_grid_frac, K) &&
                           same_f(back.snap_frac, res[i].snap_frac, GRIDCLASS_N * K),
                       "snapshots of task %d", i);
        }
        {
            const ReplayResult *a = &res[i].replay, *b = &back.replay;
            size_t nt = (size_t)a->n_keep * (size_t)(a->H + 1) * 2, ng = (size_t)a->G * (size_t)a->G;
            TEST_CHECK(b->traj && b->n_keep == a->n_keep && b->H == a->H && b->G == a->G, "replay sizes");
            TEST_CHECK(same_f(&a->sigma, &b->sigma, 1) && same_f(&a->speed_cm, &b->speed_cm, 1) &&
                           same_f(&a->spread_cm2, &b->spread_cm2, 1) && same_f(&a->kl, &b->kl, 1) &&
                           same_f(&a->kl_untrained, &b->kl_untrained, 1) &&
                           same_f(&a->mean_first_visit, &b->mean_first_visit, 1) && b->n_in == a->n_in,
                       "replay metrics of task %d", i);
            TEST_CHECK(same_f(a->traj, b->traj, nt) && same_f(a->occ, b->occ, ng) &&
                           same_f(a->occ_real, b->occ_real, ng),
                       "replay arrays of task %d", i);
        }
        TEST_CHECK(back.n_maps == res[i].n_maps, "n_maps");
        if (back.n_maps > 0) {
            TEST_CHECK(memcmp(back.map_unit, res[i].map_unit, (size_t)back.n_maps * sizeof(int)) == 0, "map unit");
            TEST_CHECK(same_f(back.ratemaps, res[i].ratemaps, (size_t)(back.n_maps * back.bins * back.bins)),
                       "ratemaps");
            TEST_CHECK(same_f(back.map_peaks, res[i].map_peaks, (size_t)back.n_maps * RESULT_PEAK_FLOATS),
                       "ratemap peaks");
        }
        result_free(&back);
    }
    /* padding past a smaller task stays NaN / -1 */
    {
        TaskConfig big = tasks[2];
        big.seq_len = tasks[1].seq_len; /* same E as... use task 2 sizes but read row 1 */
        TaskResult back;
        TEST_CHECK(result_alloc(&back, &tasks[2]) == 0, "alloc");
        TEST_CHECK(h5out_read_task(o, 1, &back, NULL) == 0, "read row 1 at max size");
        TEST_CHECK(isnan(back.score60[16]) && back.mask60[16] == -1, "unit padding");
        TEST_CHECK(isnan(back.grid_p[16]) && back.grid_null[16] == -1, "null padding");
        TEST_CHECK(back.grid_class[16] == -1 && back.n_peaks[16] == -1 && isnan(back.spacing_cm[16]) &&
                       isnan(back.spatial_info[16]),
                   "class padding");
        TEST_CHECK(back.snap_step[3] == 15 && back.snap_step[0] == 0 && back.n_snap == 4,
                   "row 1's first 4 snapshots read into task 2's sizes (%d %d)", back.snap_step[3], back.n_snap);
        TEST_CHECK(back.log_step[dm.L - 1] == -1 && isnan(back.train_loss[dm.L - 1]), "curve padding");
        /* row 1 stored 2 replays of 8 points on 6 x 6 bins: the rest is NaN */
        const ReplayResult *p = &back.replay;
        TEST_CHECK(p->traj[0] == -0.3f && isnan(p->traj[2 * 8]) && isnan(p->traj[2 * 13 + 2 * 8]) &&
                       !isnan(p->traj[2 * 13 + 2 * 7]),
                   "replay traj padding");
        TEST_CHECK(p->occ[1] == 1.0f / 36 && isnan(p->occ[6]) && isnan(p->occ[20 * 6]), "replay occ padding");
        result_free(&back);
        (void)big;
    }
    /* another spec: refused, and the message names the differing line */
    H5OutMeta other = meta;
    other.spec_hash = "def456";
    other.spec_canonical = "hidden: [8, 16, 32]\nseed: 1\n";
    rc = h5out_check(o, &other, ids, 3, err, sizeof err);
    TEST_CHECK(rc == -1 && strstr(err, "- seed: 0") && strstr(err, "+ seed: 1"), "spec diff: %s", err);
    int ids2[2] = {0, 2};
    rc = h5out_check(o, &meta, ids2, 2, err, sizeof err);
    TEST_CHECK(rc == -1 && strstr(err, "rows"), "other rows: %s", err);
    other = meta;
    other.shard = "0/2";
    rc = h5out_check(o, &other, ids, 3, err, sizeof err);
    TEST_CHECK(rc == -1 && strstr(err, "shard"), "other shard: %s", err);
    TEST_CHECK(h5out_close(o) == 0, "close");

    /* resume-style reopen: rewrite a row, status follows */
    rc = h5out_open(&o, path, 1, MPI_COMM_WORLD, err, sizeof err);
    TEST_CHECK(rc == 0, "open rw: %s", err);
    res[0].status = TASK_FAILED;
    snprintf(res[0].message, sizeof res[0].message, "%s", "out of memory");
    TEST_CHECK(h5out_write_task(o, 0, &tasks[0], &res[0], 0) == 0, "write 0");
    TEST_CHECK(h5out_read_status(o, st) == 0 && st[0] == TASK_FAILED, "status 0 = %d", st[0]);
    TEST_CHECK(h5out_row_of(o, 2) == 2 && h5out_row_of(o, 5) == -1, "row_of");
    /* a second writer of the same file is refused while the first has it */
    rc = h5out_open(&o2, path, 1, MPI_COMM_WORLD, err, sizeof err);
    TEST_CHECK(rc == -1 && strstr(err, "in use"), "second writer: %s", err);
    TEST_CHECK(h5out_close(o) == 0, "close");
    rc = h5out_open(&o2, path, 1, MPI_COMM_WORLD, err, sizeof err);
    TEST_CHECK(rc == 0, "writer after close: %s", err);
    TEST_CHECK(h5out_close(o2) == 0, "close");

    /* not HDF5 */
    FILE *f = fopen(path, "w");
    TEST_CHECK(f != NULL, "fopen");
    if (f) {
        fputs("hello\n", f);
        fclose(f);
    }
    rc = h5out_open(&o, path, 1, MPI_COMM_WORLD, err, sizeof err);
    TEST_CHECK(rc == -1 && strstr(err, "not an HDF5 file"), "not hdf5: %s", err);
    unlink(path);
    rc = h5out_open(&o, path, 1, MPI_COMM_WORLD, err, sizeof err);
    TEST_CHECK(rc == -1 && strstr(err, "no such file"), "missing: %s", err);

    for (int i = 0; i < 3; i++) result_free(&res[i]);
    int status = test_summary("test_h5out");
    MPI_Finalize();
    return status;
}
