/* test_ckpt.c -- checkpoint files (io/ckpt.h): a round trip keeps every
 * bit; a checkpoint of another sweep, task or settings, a truncated or a
 * corrupt one is refused with a message; a write that fails (the file
 * size limit standing in for a full disk) leaves the older checkpoint as
 * it was and no temporary file; the directory checks.
 *
 * Legend: n parameters, L logged points.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config.h"
#include "base/result.h"
#include "io/ckpt.h"
#include "task/train.h"
#include "testlib.h"

static const char *HASH = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void small_config(TaskConfig *c)
{
    config_defaults(c);
    c->hidden = 16;
    c->n_place = 8;
    c->steps = 500;
    c->log_every = 50;
    c->snapshot_every = 100;   /* K = 6 snapshots, 0 .. 500 */
    c->seed = 3;
}

/* A state with distinct values everywhere, and curves up to next_log. */
static void fill(TaskState *st, TaskResult *r, float base)
{
    for (size_t i = 0; i < st->n_params; i++) {
        st->params[i] = base + 0.001f * (float)i;
        st->adam_m[i] = -base * 1e-3f * (float)(i % 7);
        st->adam_v[i] = 1e-6f * (float)(i + 1);
    }
    st->step = 230;
    st->next_log = 5;
    st->next_snap = 3;         /* snapshots at 0, 100, 200 recorded */
    st->adam_t = 230;
    for (int k = 0; k < 4; k++) {
        st->r_traj.s[k] = 0x9e3779b97f4a7c15ULL * (uint64_t)(k + 1);
        st->r_noise.s[k] = 0xbf58476d1ce4e5b9ULL ^ (uint64_t)k;
    }
    st->train_s = 12.5;
    for (int i = 0; i < st->next_log; i++) {
        r->train_loss[i] = 4.0f - 0.1f * (float)i;
        r->train_err_cm[i] = 80.0f - (float)i;
    }
    r->final_loss = r->train_loss[st->next_log - 1];
    r->steps_done = 230;
    int K = r->n_snap;
    for (int k = 0; k < st->next_snap; k++) {
        r->snap_step[k] = 100 * k;
        r->snap_max_score60[k] = base * 0.1f + 0.05f * (float)k;
        r->snap_mean_score60[k] = -0.01f * (float)k;
        r->snap_grid_frac[k] = 0.125f * (float)k;
        for (int j = 0; j < GRIDCLASS_N; j++) r->snap_frac[(size_t)j * K + k] = (float)(j + 1) / 21.0f;
    }
}

/* The snapshot curves of a and b (same K) are bit-identical. */
static int same_snapshots(const TaskResult *a, const TaskResult *b)
{
    size_t K = (size_t)a->n_snap;
    return a->n_snap == b->n_snap && memcmp(a->snap_step, b->snap_step, K * sizeof(int)) == 0 &&
           memcmp(a->snap_max_score60, b->snap_max_score60, K * sizeof(float)) == 0 &&
           memcmp(a->snap_mean_score60, b->snap_mean_score60, K * sizeof(float)) == 0 &&
           memcmp(a->snap_grid_frac, b->snap_grid_frac, K * sizeof(float)) == 0 &&
           memcmp(a->snap_frac, b->snap_frac, GRIDCLASS_N * K * sizeof(float)) == 0;
}

static int same_state(const TaskState *a, const TaskState *b)
{
    size_t bytes = a->n_params * sizeof(float);
    return a->n_params == b->n_params && a->step == b->step && a->next_log == b->next_log &&
           a->next_snap == b->next_snap &&
           a->adam_t == b->adam_t && memcmp(&a->r_traj, &b->r_traj, sizeof a->r_traj) == 0 &&
           memcmp(&a->r_noise, &b->r_noise, sizeof a->r_noise) == 0 && a->train_s == b->train_s &&
           memcmp(a->params, b->params, bytes) == 0 && memcmp(a->adam_m, b->adam_m, bytes) == 0 &&
           memcmp(a->adam_v, b->adam_v, bytes) == 0;
}

/* Offset of the first occurrence of n bytes p in file path, or -1. */
static long find_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    unsigned char *buf = malloc((size_t)len);
    long at = -1;
    if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len)
        for (long i = 0; i + (long)n <= len; i++)
            if (memcmp(buf + i, p, n) == 0) {
                at = i;
                break;
            }
    free(buf);
    fclose(f);
    return at;
}

static void flip_byte(const char *path, long at)
{
    int fd = open(path, O_RDWR);
    unsigned char b;
    if (fd >= 0 && pread(fd, &b, 1, at) == 1) {
        b ^= 0x10;
        if (pwrite(fd, &b, 1, at) != 1) perror("pwrite");
    }
    if (fd >= 0) close(fd);
}

int main(void)
{
    char dir[256], path[512], err[1024];
    snprintf(dir, sizeof dir, "/tmp/test_ckpt.%ld/out.h5", (long)getpid());
    char root[256];
    snprintf(root, sizeof root, "/tmp/test_ckpt.%ld", (long)getpid());
    mkdir(root, 0777);
    char cdir[300];
    TEST_CHECK(ckpt_dir_of(dir, cdir, sizeof cdir) == 0 && strcmp(cdir + strlen(cdir) - 8, ".h5.ckpt") == 0,
               "dir %s", cdir);
    TEST_CHECK(ckpt_dir_prepare(cdir, err, sizeof err) == 0, "prepare: %s", err);
    TEST_CHECK(ckpt_dir_prepare(cdir, err, sizeof err) == 0, "prepare again: %s", err);

    TaskConfig c;
    small_config(&c);
    TaskState st, back;
    TaskResult r, r2;
    size_t n = 1000;
    TEST_CHECK(task_state_alloc(&st, n) == 0 && result_alloc(&r, &c) == 0 && result_alloc(&r2, &c) == 0, "alloc");
    fill(&st, &r, 1.0f);

    /* none yet */
    TEST_CHECK(ckpt_read(cdir, 4, HASH, &c, &back, &r2, err, sizeof err) == 1, "a checkpoint where none is");

    /* round trip */
    long long bytes = 0;
    int w = ckpt_write(cdir, 4, HASH, &c, &st, &r, &bytes, err, sizeof err);
    TEST_CHECK(w == 0 && bytes > (long long)(3 * n * sizeof(float)), "write: %d %s (%lld bytes)", w, err, bytes);
    int rd = ckpt_read(cdir, 4, HASH, &c, &back, &r2, err, sizeof err);
    TEST_CHECK(rd == 0, "read: %d %s", rd, err);
    if (rd == 0) {
        TEST_CHECK(same_state(&st, &back), "state differs after the round trip");
        TEST_CHECK(memcmp(r.train_loss, r2.train_loss, 5 * sizeof(float)) == 0 &&
                       memcmp(r.train_err_cm, r2.train_err_cm, 5 * sizeof(float)) == 0 &&
                       r2.final_loss == r.final_loss && r2.steps_done == 230,
                   "curves differ after the round trip");
        TEST_CHECK(r.n_snap == 6 && back.next_snap == 3 && same_snapshots(&r, &r2) && r2.snap_step[2] == 200 &&
                       r2.snap_step[3] == -1 && isnan(r2.snap_max_score60[3]),
                   "snapshot curves differ after the round trip");
        task_state_free(&back);
    }
    int step = -1;
    double ts = 0;
    TEST_CHECK(ckpt_peek(cdir, 4, &step, &ts) == 0 && step == 230 && ts == 12.5, "peek %d %g", step, ts);
    TEST_CHECK(ckpt_peek(cdir, 5, &step, &ts) == 1, "peek of a missing checkpoint");

    /* refusals: another sweep, other settings, another task */
    const char *other = "f123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    TEST_CHECK(ckpt_read(cdir, 4, other, &c, &back, &r2, err, sizeof err) == -1 && strstr(err, "another sweep"),
               "other hash: %s", err);
    TaskConfig c2 = c;
    c2.lr *= 1.0000001;
    TEST_CHECK(ckpt_read(cdir, 4, HASH, &c2, &back, &r2, err, sizeof err) == -1 && strstr(err, "other settings"),
               "other settings: %s", err);
    char p4[512], p7[512];
    snprintf(p4, sizeof p4, "%s/task-4.h5", cdir);
    snprintf(p7, sizeof p7, "%s/task-7.h5", cdir);
    TEST_CHECK(link(p4, p7) == 0, "link: %s", strerror(errno));
    TEST_CHECK(ckpt_read(cdir, 7, HASH, &c, &back, &r2, err, sizeof err) == -1 && strstr(err, "another task"),
               "other task: %s", err);
    TEST_CHECK(ckpt_remove(cdir, 7) == 0 && access(p7, F_OK) != 0, "remove");
    TEST_CHECK(ckpt_remove(cdir, 7) == 0, "remove of a missing checkpoint");

    /* corrupt: one bit of the parameters flipped */
    snprintf(path, sizeof path, "%s/task-4.h5", cdir);
    long at = find_bytes(path, st.params + 100, 16);
    TEST_CHECK(at > 0, "parameters not found in the file");
    if (at > 0) {
        flip_byte(path, at + 2);
        TEST_CHECK(ckpt_read(cdir, 4, HASH, &c, &back, &r2, err, sizeof err) == -1 && strstr(err, "checksum"),
                   "flipped bit: %s", err);
        flip_byte(path, at + 2);
        TEST_CHECK(ckpt_read(cdir, 4, HASH, &c, &back, &r2, err, sizeof err) == 0, "restored: %s", err);
        task_state_free(&back);
    }
    /* corrupt: one bit of the snapshot curves flipped */
    at = find_bytes(path, r.snap_max_score60, 3 * sizeof(float));
    TEST_CHECK(at > 0, "snapshot curves not found in the file");
    if (at > 0) {
        flip_byte(path, at + 5);
        TEST_CHECK(ckpt_read(cdir, 4, HASH, &c, &back, &r2, err, sizeof err) == -1 && strstr(err, "checksum"),
                   "flipped snapshot bit: %s", err);
        flip_byte(path, at + 5);
        TEST_CHECK(ckpt_read(cdir, 4, HASH, &c, &back, &r2, err, sizeof err) == 0, "restored: %s", err);
        task_state_free(&back);
    }
    /* truncated */
    struct stat sb;
    stat(path, &sb);
    char copy[600];
    snprintf(copy, sizeof copy, "%s/task-9.h5", cdir);
    {
        FILE *a = fopen(path, "rb"), *b = fopen(copy, "wb");
        char *buf = malloc((size_t)sb.st_size);
        if (a && b && buf && fread(buf, 1, (size_t)sb.st_size, a) == (size_t)sb.st_size)
            fwrite(buf, 1, (size_t)sb.st_size / 2, b);
        free(buf);
        if (a) fclose(a);
        if (b) fclose(b);
    }
    TEST_CHECK(ckpt_read(cdir, 9, HASH, &c, &back, &r2, err, sizeof err) == -1 && strstr(err, "task-9"),
               "truncated: %s", err);
    /* not HDF5 at all */
    FILE *g = fopen(copy, "w");
    if (g) {
        fputs("not a checkpoint\n", g);
        fclose(g);
    }
    TEST_CHECK(ckpt_read(cdir, 9, HASH, &c, &back, &r2, err, sizeof err) == -1 && strstr(err, "not a readable"),
               "garbage: %s", err);
    ckpt_remove(cdir, 9);

    /* a write that fails (file size limit: EFBIG, as a full disk gives
     * ENOSPC) keeps the older checkpoint and leaves no temporary file */
    TaskState big;
    TEST_CHECK(task_state_alloc(&big, 200000) == 0, "alloc big");
    fill(&big, &r, 2.0f);
    struct rlimit old, lim = {64 * 1024, 64 * 1024};
    getrlimit(RLIMIT_FSIZE, &old);
    lim.rlim_max = old.rlim_max;
    signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &lim);
    int wf = ckpt_write(cdir, 4, HASH, &c, &big, &r, NULL, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    TEST_CHECK(wf == -1 && strstr(err, "task 4"), "write past the limit: %d %s", wf, err);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s/task-4.h5.tmp", cdir);
    TEST_CHECK(access(tmp, F_OK) != 0, "temporary file left behind");
    fill(&st, &r, 1.0f);
    rd = ckpt_read(cdir, 4, HASH, &c, &back, &r2, err, sizeof err);
    TEST_CHECK(rd == 0 && same_state(&st, &back), "older checkpoint lost: %d %s", rd, err);
    if (rd == 0) task_state_free(&back);
    task_state_free(&big);

    /* the directory: a file in the way, a parent that does not exist */
    char inway[400];
    snprintf(inway, sizeof inway, "%s/file.ckpt", root);
    g = fopen(inway, "w");
    if (g) fclose(g);
    TEST_CHECK(ckpt_dir_prepare(inway, err, sizeof err) == -1 && strstr(err, "not a directory"), "file: %s", err);
    snprintf(inway, sizeof inway, "%s/no/such/dir.ckpt", root);
    TEST_CHECK(ckpt_dir_prepare(inway, err, sizeof err) == -1 && strstr(err, "cannot create"), "parent: %s", err);

    task_state_free(&st);
    result_free(&r);
    result_free(&r2);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", root);
    return test_summary("test_ckpt");
}
