/* merge.h -- `sweep merge -o OUT IN...`: the shard files of one sweep
 * merged into one result file (docs/running.md, "Shards";
 * docs/results-format.md for what the merged file records).
 *
 * merge_main checks that every input belongs to the same spec (hash) and
 * that their rows do not overlap, builds OUT as OUT.merging and renames it;
 * it never overwrites an existing OUT.  Initialises MPI as a singleton when
 * it is not yet (MPI_COMM_SELF, no mpirun needed).
 */
#ifndef SWEEP_MERGE_H
#define SWEEP_MERGE_H

/* output: the merged file; inputs (n_inputs): the shard files.  Returns
 * the process exit status (base/sweep.h: SWEEP_EXIT_*). */
int merge_main(const char *output, int n_inputs, char *const *inputs);

#endif
