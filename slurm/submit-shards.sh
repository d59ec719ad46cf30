#!/bin/bash
# slurm/submit-shards.sh SPEC N [sbatch options...]
#
# Split one sweep over an N-element job array (each element runs shard i/N
# with slurm/sweep.sbatch, resuming itself across time limits) and submit
# the merge job that runs once every element has succeeded.  Extra sbatch
# options (e.g. --ntasks=32 --time=8:00:00) apply to the array elements.
# Environment as for sweep.sbatch (SWEEP, SWEEP_OUT, ...): it is exported
# to both jobs.  Prints the two job ids.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 SPEC N [sbatch options for the array elements...]" >&2
    exit 2
fi
spec=$1; n=$2; shift 2
case $n in ''|*[!0-9]*|0) echo "$0: N must be a positive integer" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
arr=$(sbatch --parsable --array=0-$((n - 1)) "$@" "$here/sweep.sbatch" "$spec")
arr=${arr%%;*}
mrg=$(sbatch --parsable --dependency=afterok:"$arr" --kill-on-invalid-dep=yes \
      "$here/merge.sbatch" "$spec" "$n")
mrg=${mrg%%;*}
echo "array job $arr ($n shards), merge job $mrg (after all shards succeed)"
