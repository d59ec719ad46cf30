/* status.h -- `sweep status FILE` (status_main) and the reading of a
 * result file's root attributes, which `sweep merge` (merge.c) shares.
 *
 * status_main opens the file read-only (h5out_open on MPI_COMM_SELF, a
 * singleton MPI_Init: no mpirun needed), so it works on the file of a
 * finished, a killed or a still running sweep.  docs/results-format.md is
 * the layout it reads; docs/running.md the user's view.
 *
 * Ownership: status_read_info fills a StatusInfo whose strings it
 * allocates; status_info_free releases them (safe on a zeroed struct).
 */
#ifndef SWEEP_STATUS_H
#define SWEEP_STATUS_H

#include <hdf5.h>

/* The root attributes of a result file.  Strings are never NULL after a
 * successful status_read_info ("" when the attribute is absent). */
typedef struct StatusInfo {
    char *sweep_version;
    char *spec_text;
    char *spec_canonical;
    char *spec_hash;
    char *command_line;
    char *start_time;       /* ISO 8601 UTC */
    char *shard;            /* "i/N", "" for an unsharded (or merged) file */
    int n_ranks;            /* -1 when absent */
    int n_tasks;            /* tasks of the whole sweep; -1 when absent */
    int n_merged_from;      /* entries of the merged_from attribute (0 if none) */
} StatusInfo;

/* Read the root attributes of an open result file.  Returns 0, or -1 (out
 * of memory, or spec_hash / spec_text missing: not a usable sweep file). */
int status_read_info(hid_t file, StatusInfo *info);
void status_info_free(StatusInfo *info);

/* `sweep status FILE`: print the summary of a result file (finished,
 * killed or still running) to stdout.  Initialises MPI as a singleton when
 * it is not yet.  Returns the process exit status (base/sweep.h). */
int status_main(const char *file);

#endif
