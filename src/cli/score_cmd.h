/* score_cmd.h -- `sweep score MAPS.h5 -o OUT.h5 [--csv] [--force]`
 * (score_cmd.c): every per-unit measure of docs/spatial.md ("Grid geometry
 * and classification") and the class of each unit, for any file of rate
 * maps (docs/cli.md, "sweep score").  No MPI. */
#ifndef SWEEP_SCORE_CMD_H
#define SWEEP_SCORE_CMD_H

/* argv[0] is "score".  Parses its own options, scores, writes.  Returns the
 * process exit status (base/sweep.h): 0, 2 for a bad command line or bad
 * input file, 4 when the output is refused (exists, no --force) or cannot
 * be written. */
int score_main(int argc, char **argv);

#endif
