/* ckpt.c -- checkpoint files of tasks in training (ckpt.h).
 *
 * Legend: n parameters (TaskState.n_params), L logged training points,
 * K snapshots (TaskResult.n_snap), C unit classes (base/gridclass.h).
 *
 * File OUT.ckpt/task-<id>.h5 (serial HDF5, written by one process):
 *   /params, /adam_m, /adam_v   float32 (n)
 *   /train_loss, /train_err_cm  float32 (L), NaN past next_log
 *   /snapshots                  float32 (3 + C, K): rows snap_max_score60,
 *                               snap_mean_score60, snap_grid_frac, then
 *                               snap_frac (C rows); NaN past next_snap (one
 *                               element when K = 0)
 *   root attributes:
 *     format_version int, spec_hash string, task_id int, settings string,
 *     step int, next_log int, next_snap int, adam_t int64, steps_done int,
 *     rng_traj uint64 (4), rng_noise uint64 (4), final_loss float32,
 *     train_s float64, checksum uint64
 * settings: one line "key=value" per setting of base/settings.def (value
 * printed with %.17g, so equal text means equal settings), then
 * "eval_noise=v,v,...".  checksum: FNV-1a (64 bit) over the bytes of the
 * six datasets in the order above and of the scalar state attributes, so a
 * flipped bit anywhere in the state is caught.  The snapshot steps are not
 * stored: snapshot k < next_snap was taken at k * snapshot_every.
 *
 * Writing: the file is built in memory (HDF5's core driver, no backing
 * store), its image taken (H5Fget_file_image) and written with plain
 * write(2) calls, then fsync'ed and renamed.  So a full disk or an I/O
 * error is a failed write(2) that we see and clean up after; HDF5 never
 * holds a half-written file open (a failed flush inside HDF5 leaves a file
 * id it cannot close, and the library crashes closing it at exit).  The
 * cost is a transient copy of twice the file's size in memory.
 */
#include "io/ckpt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- names, settings text, checksum ----------------------------------- */

static int file_path(const char *dir, int id, const char *suffix, char *path, size_t len)
{
    int n = snprintf(path, len, "%s/task-%d.h5%s", dir, id, suffix);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int ckpt_dir_of(const char *result_path, char *dir, size_t len)
{
    int n = snprintf(dir, len, "%s.ckpt", result_path);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The settings text of cfg (see the top of this file) into buf. */
static int settings_text(const TaskConfig *cfg, char *buf, size_t len)
{
    size_t off = 0;
    for (int i = 0; i < config_n_settings; i++) {
        int n = snprintf(buf + off, len - off, "%s=%.17g\n", config_settings[i].key,
                         config_get(cfg, &config_settings[i]));
        if (n < 0 || (size_t)n >= len - off) return -1;
        off += (size_t)n;
    }
    int n = snprintf(buf + off, len - off, "eval_noise=");
    if (n < 0 || (size_t)n >= len - off) return -1;
    off += (size_t)n;
    for (int l = 0; l < cfg->n_eval_noise; l++) {
        n = snprintf(buf + off, len - off, "%s%.17g", l ? "," : "", cfg->eval_noise[l]);
        if (n < 0 || (size_t)n >= len - off) return -1;
        off += (size_t)n;
    }
    return 0;
}

enum { SETTINGS_TEXT_MAX = 16384 };

/* FNV-1a, 64 bit: h = (h ^ byte) * 0x100000001b3, from 0xcbf29ce484222325. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* Floats of the /snapshots dataset of a result with K snapshots. */
static size_t snap_floats(int K) { return (size_t)(3 + GRIDCLASS_N) * (size_t)K; }

/* res's snapshot curves into snap (3 + C, K), the layout of /snapshots. */
static void snap_pack(const TaskResult *res, float *snap)
{
    size_t K = (size_t)res->n_snap;
    memcpy(snap, res->snap_max_score60, K * sizeof(float));
    memcpy(snap + K, res->snap_mean_score60, K * sizeof(float));
    memcpy(snap + 2 * K, res->snap_grid_frac, K * sizeof(float));
    memcpy(snap + 3 * K, res->snap_frac, GRIDCLASS_N * K * sizeof(float));
}

/* The inverse: snap (3 + C, K) into res, steps k * every for k < next_snap. */
static void snap_unpack(const float *snap, int next_snap, int every, TaskResult *res)
{
    size_t K = (size_t)res->n_snap;
    memcpy(res->snap_max_score60, snap, K * sizeof(float));
    memcpy(res->snap_mean_score60, snap + K, K * sizeof(float));
    memcpy(res->snap_grid_frac, snap + 2 * K, K * sizeof(float));
    memcpy(res->snap_frac, snap + 3 * K, GRIDCLASS_N * K * sizeof(float));
    for (int k = 0; k < res->n_snap; k++) res->snap_step[k] = k < next_snap ? k * every : -1;
}

/* Checksum of a state and its curves (L points, snap: snap_floats(K)). */
static uint64_t state_checksum(const TaskState *st, const float *loss, const float *err, int L, const float *snap,
                               int K, float final_loss, int steps_done)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t bytes = st->n_params * sizeof(float);
    h = fnv1a(h, st->params, bytes);
    h = fnv1a(h, st->adam_m, bytes);
    h = fnv1a(h, st->adam_v, bytes);
    h = fnv1a(h, loss, (size_t)L * sizeof(float));
    h = fnv1a(h, err, (size_t)L * sizeof(float));
    h = fnv1a(h, snap, snap_floats(K) * sizeof(float));
    int32_t ints[4] = {st->step, st->next_log, steps_done, st->next_snap};
    int64_t t = st->adam_t;
    h = fnv1a(h, ints, sizeof ints);
    h = fnv1a(h, &t, sizeof t);
    h = fnv1a(h, st->r_traj.s, sizeof st->r_traj.s);
    h = fnv1a(h, st->r_noise.s, sizeof st->r_noise.s);
    h = fnv1a(h, &final_loss, sizeof final_loss);
    h = fnv1a(h, &st->train_s, sizeof st->train_s);
    return h;
}

/* ---- attributes and datasets ------------------------------------------ */

static int attr_write(hid_t obj, const char *name, hid_t type, int n, const void *v)
{
    hsize_t dim = (hsize_t)n;
    hid_t sp = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    hid_t a = sp < 0 ? -1 : H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a >= 0 && H5Awrite(a, type, v) >= 0 ? 0 : -1;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

static int attr_write_str(hid_t obj, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0 || H5Tset_size(t, strlen(s) + 1) < 0) {
        if (t >= 0) H5Tclose(t);
        return -1;
    }
    int rc = attr_write(obj, name, t, 1, s);
    H5Tclose(t);
    return rc;
}

/* Read attribute `name` of n elements of memory type `type`; -1 when it
 * is absent or of another size. */
static int attr_read(hid_t obj, const char *name, hid_t type, int n, void *v)
{
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t sp = H5Aget_space(a);
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    int rc = np == n && H5Aread(a, type, v) >= 0 ? 0 : -1;
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

/* A fixed-length string attribute into a new malloc'ed string, or NULL. */
static char *attr_read_str(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0) return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : -1;
    char *s = NULL;
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING && !H5Tis_variable_str(ft)) {
        size_t n = H5Tget_size(ft);
        hid_t mt = H5Tcopy(H5T_C_S1);
        s = calloc(n + 1, 1);
        if (!s || mt < 0 || H5Tset_size(mt, n) < 0 || H5Aread(a, mt, s) < 0) {
            free(s);
            s = NULL;
        }
        if (mt >= 0) H5Tclose(mt);
    }
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return s;
}

static int dset_write(hid_t file, const char *name, const float *x, size_t n)
{
    hsize_t dim = n ? (hsize_t)n : 1;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    hid_t d = sp < 0 ? -1 : H5Dcreate2(file, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d >= 0 && (n == 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0) ? 0 : -1;
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

/* Read float dataset `name` of exactly n elements into x. */
static int dset_read(hid_t file, const char *name, float *x, size_t n)
{
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) return -1;
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    int rc = np == (hssize_t)(n ? n : 1) && (n == 0 || H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                                              H5P_DEFAULT, x) >= 0)
                 ? 0
                 : -1;
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    return rc;
}

/* ---- directory --------------------------------------------------------- */

int ckpt_dir_prepare(const char *dir, char *err, size_t errlen)
{
    struct stat sb;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the checkpoint directory: %s", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a directory: checkpoints need it (move the file away)", dir);
        return -1;
    }
    char probe[4200];
    if (snprintf(probe, sizeof probe, "%s/.probe-%ld", dir, (long)getpid()) >= (int)sizeof probe) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot write checkpoints there: %s", dir, strerror(errno));
        return -1;
    }
    close(fd);
    unlink(probe);
    return 0;
}

int ckpt_dir_clear(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    int n = 0;
    struct dirent *e;
    char path[4608];
    while ((e = readdir(d))) {
        int id, len = 0;
        /* task-<id>.h5 or task-<id>.h5.tmp, nothing else */
        if (sscanf(e->d_name, "task-%d.h5%n", &id, &len) != 1 || len <= 0) continue;
        if (e->d_name[len] && strcmp(e->d_name + len, ".tmp") != 0) continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        if (unlink(path) == 0) n++;
    }
    closedir(d);
    return n;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* ---- write --------------------------------------------------------------- */

int ckpt_write(const char *dir, int id, const char *spec_hash, const TaskConfig *cfg, const TaskState *st,
               const TaskResult *res, long long *bytes, char *err, size_t errlen)
{
    char path[4200], tmp[4200];
    char *settings = malloc(SETTINGS_TEXT_MAX);
    hid_t f = -1;
    unsigned char *image = NULL;
    size_t image_len = 0;
    int rc = -1, L = res->n_log, K = res->n_snap;
    float *snap = malloc((snap_floats(K) ? snap_floats(K) : 1) * sizeof(float));
    const char *what = "path";
    errno = 0;
    if (!settings || !snap) {
        free(settings);
        free(snap);
        snprintf(err, errlen, "checkpoint of task %d: out of memory", id);
        return -1;
    }
    if (file_path(dir, id, "", path, sizeof path) < 0 || file_path(dir, id, ".tmp", tmp, sizeof tmp) < 0) goto fail;
    what = "settings";
    if (settings_text(cfg, settings, SETTINGS_TEXT_MAX) < 0) goto fail;
    snap_pack(res, snap);
    uint64_t sum = state_checksum(st, res->train_loss, res->train_err_cm, L, snap, K, res->final_loss,
                                  res->steps_done);
    int32_t version = CKPT_FORMAT_VERSION, id32 = id, step = st->step, next = st->next_log, done = res->steps_done;
    int32_t next_snap = st->next_snap;
    int64_t adam_t = st->adam_t;
    what = "file (in memory)";
    H5E_BEGIN_TRY
    {
        hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
        if (fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 20, 0) >= 0) {
            char name[64];
            snprintf(name, sizeof name, "ckpt-task-%d-in-memory", id);
            f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
        }
        if (fapl >= 0) H5Pclose(fapl);
        if (f >= 0 && dset_write(f, "params", st->params, st->n_params) == 0 &&
            dset_write(f, "adam_m", st->adam_m, st->n_params) == 0 &&
            dset_write(f, "adam_v", st->adam_v, st->n_params) == 0 &&
            dset_write(f, "train_loss", res->train_loss, (size_t)L) == 0 &&
            dset_write(f, "train_err_cm", res->train_err_cm, (size_t)L) == 0 &&
            dset_write(f, "snapshots", snap, snap_floats(K)) == 0 &&
            attr_write(f, "next_snap", H5T_NATIVE_INT32, 1, &next_snap) == 0 &&
            attr_write(f, "format_version", H5T_NATIVE_INT32, 1, &version) == 0 &&
            attr_write_str(f, "spec_hash", spec_hash) == 0 && attr_write(f, "task_id", H5T_NATIVE_INT32, 1, &id32) == 0 &&
            attr_write_str(f, "settings", settings) == 0 && attr_write(f, "step", H5T_NATIVE_INT32, 1, &step) == 0 &&
            attr_write(f, "next_log", H5T_NATIVE_INT32, 1, &next) == 0 &&
            attr_write(f, "adam_t", H5T_NATIVE_INT64, 1, &adam_t) == 0 &&
            attr_write(f, "steps_done", H5T_NATIVE_INT32, 1, &done) == 0 &&
            attr_write(f, "rng_traj", H5T_NATIVE_UINT64, 4, st->r_traj.s) == 0 &&
            attr_write(f, "rng_noise", H5T_NATIVE_UINT64, 4, st->r_noise.s) == 0 &&
            attr_write(f, "final_loss", H5T_NATIVE_FLOAT, 1, &res->final_loss) == 0 &&
            attr_write(f, "train_s", H5T_NATIVE_DOUBLE, 1, &st->train_s) == 0 &&
            attr_write(f, "checksum", H5T_NATIVE_UINT64, 1, &sum) == 0 && H5Fflush(f, H5F_SCOPE_LOCAL) >= 0) {
            ssize_t n = H5Fget_file_image(f, NULL, 0);
            if (n > 0 && (image = malloc((size_t)n)) && H5Fget_file_image(f, image, (size_t)n) == n) {
                image_len = (size_t)n;
                what = NULL;
            }
        }
        if (f >= 0) H5Fclose(f);
        f = -1;
    }
    H5E_END_TRY;
    if (what) goto fail;
    /* the image to TMP, durable before it replaces the old checkpoint */
    what = "file";
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) goto fail;
    size_t off = 0;
    while (off < image_len) {
        ssize_t k = write(fd, image + off, image_len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            int eno = k < 0 ? errno : ENOSPC;
            close(fd);
            errno = eno;
            goto fail;
        }
        off += (size_t)k;
    }
    what = "file (fsync)";
    if (fsync(fd) != 0) {
        int eno = errno;
        close(fd);
        errno = eno;
        goto fail;
    }
    if (close(fd) != 0) goto fail;
    if (bytes) *bytes = (long long)image_len;
    what = "file (rename)";
    if (rename(tmp, path) != 0) goto fail;
    fsync_dir(dir);
    rc = 0;
    goto done;
fail:
    snprintf(err, errlen, "%s: cannot write the checkpoint of task %d (%s)%s%s", dir, id, what,
             errno ? ": " : "", errno ? strerror(errno) : "");
    unlink(tmp);
done:
    free(image);
    free(settings);
    free(snap);
    return rc;
}

/* ---- read ---------------------------------------------------------------- */

int ckpt_peek(const char *dir, int id, int *step, double *train_s)
{
    char path[4200];
    if (file_path(dir, id, "", path, sizeof path) < 0) return -1;
    if (access(path, F_OK) != 0) return 1;
    int rc = -1;
    H5E_BEGIN_TRY
    {
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f >= 0) {
            int32_t s;
            double t;
            if (attr_read(f, "step", H5T_NATIVE_INT32, 1, &s) == 0 &&
                attr_read(f, "train_s", H5T_NATIVE_DOUBLE, 1, &t) == 0) {
                *step = s;
                *train_s = t;
                rc = 0;
            }
            H5Fclose(f);
        }
    }
    H5E_END_TRY;
    return rc;
}

int ckpt_read(const char *dir, int id, const char *spec_hash, const TaskConfig *cfg, TaskState *st,
              TaskResult *res, char *err, size_t errlen)
{
    char path[4200];
    char *want = malloc(SETTINGS_TEXT_MAX), *have_hash = NULL, *have_settings = NULL;
    float *loss = NULL, *errc = NULL, *snap = NULL;
    hid_t f = -1;
    int rc = -1, L = res->n_log, K = res->n_snap;
    const char *why = "path too long";
    memset(st, 0, sizeof *st);
    if (!want || file_path(dir, id, "", path, sizeof path) < 0) goto fail;
    if (access(path, F_OK) != 0) {
        free(want);
        return 1;
    }
    why = "settings";
    if (settings_text(cfg, want, SETTINGS_TEXT_MAX) < 0) goto fail;
    H5E_BEGIN_TRY { f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); }
    H5E_END_TRY;
    why = "not a readable HDF5 file (truncated or corrupt)";
    if (f < 0) goto fail;
    int32_t version = -1, id32 = -1, step = -1, next = -1, done = -1, next_snap = -1;
    int64_t adam_t = -1;
    uint64_t sum = 0;
    float final_loss = NAN;
    Rng rt, rn;
    double train_s = 0;
    hsize_t n_params = 0;
    H5E_BEGIN_TRY
    {
        why = "unknown format version";
        if (attr_read(f, "format_version", H5T_NATIVE_INT32, 1, &version) < 0 || version != CKPT_FORMAT_VERSION)
            goto unreadable;
        why = "of another sweep (spec hash differs)";
        if (!(have_hash = attr_read_str(f, "spec_hash")) || strcmp(have_hash, spec_hash) != 0) goto unreadable;
        why = "of another task";
        if (attr_read(f, "task_id", H5T_NATIVE_INT32, 1, &id32) < 0 || id32 != id) goto unreadable;
        why = "of other settings";
        if (!(have_settings = attr_read_str(f, "settings")) || strcmp(have_settings, want) != 0) goto unreadable;
        why = "incomplete (a state attribute is missing)";
        if (attr_read(f, "step", H5T_NATIVE_INT32, 1, &step) < 0 ||
            attr_read(f, "next_log", H5T_NATIVE_INT32, 1, &next) < 0 ||
            attr_read(f, "next_snap", H5T_NATIVE_INT32, 1, &next_snap) < 0 ||
            attr_read(f, "adam_t", H5T_NATIVE_INT64, 1, &adam_t) < 0 ||
            attr_read(f, "steps_done", H5T_NATIVE_INT32, 1, &done) < 0 ||
            attr_read(f, "rng_traj", H5T_NATIVE_UINT64, 4, rt.s) < 0 ||
            attr_read(f, "rng_noise", H5T_NATIVE_UINT64, 4, rn.s) < 0 ||
            attr_read(f, "final_loss", H5T_NATIVE_FLOAT, 1, &final_loss) < 0 ||
            attr_read(f, "train_s", H5T_NATIVE_DOUBLE, 1, &train_s) < 0 ||
            attr_read(f, "checksum", H5T_NATIVE_UINT64, 1, &sum) < 0)
            goto unreadable;
        why = "inconsistent (step, logged points or parameters out of range)";
        hid_t d = H5Dopen2(f, "params", H5P_DEFAULT);
        if (d >= 0) {
            hid_t sp = H5Dget_space(d);
            if (sp >= 0) {
                hssize_t np = H5Sget_simple_extent_npoints(sp);
                n_params = np > 0 ? (hsize_t)np : 0;
                H5Sclose(sp);
            }
            H5Dclose(d);
        }
        if (n_params == 0 || step < 0 || step > cfg->steps + 1 || next < 0 || next > L || done < 0 ||
            done > cfg->steps || adam_t < 0 || next_snap < 0 || next_snap > K)
            goto unreadable;
        why = "out of memory";
        if (task_state_alloc(st, (size_t)n_params) != 0 || !(loss = malloc(((size_t)L + 1) * sizeof(float))) ||
            !(errc = malloc(((size_t)L + 1) * sizeof(float))) ||
            !(snap = malloc((snap_floats(K) + 1) * sizeof(float))))
            goto unreadable;
        why = "its data cannot be read (truncated or corrupt)";
        if (dset_read(f, "params", st->params, st->n_params) < 0 || dset_read(f, "adam_m", st->adam_m, st->n_params) < 0 ||
            dset_read(f, "adam_v", st->adam_v, st->n_params) < 0 || dset_read(f, "train_loss", loss, (size_t)L) < 0 ||
            dset_read(f, "train_err_cm", errc, (size_t)L) < 0 || dset_read(f, "snapshots", snap, snap_floats(K)) < 0)
            goto unreadable;
        st->step = step;
        st->next_log = next;
        st->next_snap = next_snap;
        st->adam_t = adam_t;
        st->r_traj = rt;
        st->r_noise = rn;
        st->train_s = train_s;
        why = "corrupt (checksum mismatch)";
        if (state_checksum(st, loss, errc, L, snap, K, final_loss, done) != sum) goto unreadable;
        why = NULL;
    unreadable:;
    }
    H5E_END_TRY;
    if (why) goto fail;
    memcpy(res->train_loss, loss, (size_t)L * sizeof(float));
    memcpy(res->train_err_cm, errc, (size_t)L * sizeof(float));
    snap_unpack(snap, next_snap, cfg->snapshot_every, res);
    res->final_loss = final_loss;
    res->steps_done = done;
    rc = 0;
    goto done;
fail:
    snprintf(err, errlen, "%s: checkpoint %s", path, why);
    task_state_free(st);
done:
    if (f >= 0) H5Fclose(f);
    free(want);
    free(have_hash);
    free(have_settings);
    free(loss);
    free(errc);
    free(snap);
    return rc;
}

int ckpt_remove(const char *dir, int id)
{
    char path[4200], tmp[4200];
    if (file_path(dir, id, "", path, sizeof path) < 0 || file_path(dir, id, ".tmp", tmp, sizeof tmp) < 0) return -1;
    unlink(tmp);
    if (unlink(path) != 0 && errno != ENOENT) return -1;
    return 0;
}
