#!/usr/bin/env bash
# t_ckpt_full_disk.sh -- a full disk while checkpointing (docs/faults.md):
# the result file and its checkpoint directory on a 3 MiB tmpfs, a network
# whose checkpoint (about 1.8 MB) fits once but not beside its temporary
# successor: the failed write is warned about ("No space left on device",
# training goes on), no temporary file is left, and the task ends with the
# same results as on a roomy disk.  Needs `mount -t tmpfs` (root); skipped,
# and counted as skipped, where it is not allowed.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
cat >"$tmp/big.yaml" <<'YAML'
name: ckpt-full
model: {hidden: 384, activation: relu, cell: leaky, tau: 0.1, noise: 0.01}
task: {seq_len: 10}
place: {n_place: 32}
train: {steps: 1500, batch: 16, lr: 1.0e-3, log_every: 500, checkpoint_every: 0.3}
eval: {eval_batch: 32, ratemap_trajectories: 200, ratemap_bins: 10, eval_noise: [0.0, 0.03], null_shuffles: 20}
YAML
compare() {  # reference, file: bit-identical results
  "$PYTHON" tests/check_results.py "$2" --complete --compare "$1" >"$tmp/cmp.log" 2>&1 ||
    { cat "$tmp/cmp.log"; fail "$2 differs from $1"; }
}
mnt=$tmp/full
mkdir -p "$mnt"
mount -t tmpfs -o size=3m tmpfs "$mnt" 2>"$tmp/mount.log" || skip "mount -t tmpfs not allowed here ($(cat "$tmp/mount.log"))"
at_exit "umount '$mnt' 2>/dev/null"
"$SWEEP" run-one "$tmp/big.yaml" --task 0 -o "$tmp/big-ref.h5" >"$tmp/ref.log" 2>&1 || { cat "$tmp/ref.log"; fail "reference"; }
"$SWEEP" run-one "$tmp/big.yaml" --task 0 -o "$mnt/big.h5" >"$tmp/big.log" 2>&1 || { cat "$tmp/big.log"; fail "a full disk failed the task"; }
grep -q "cannot write the checkpoint of task 0 .*No space left on device.*training goes on" "$tmp/big.log" ||
  { cat "$tmp/big.log"; df -h "$mnt"; fail "no full-disk warning"; }
ls "$mnt/big.h5.ckpt" | grep -q '\.tmp$' && fail "a temporary checkpoint file was left on the full disk"
compare "$tmp/big-ref.h5" "$mnt/big.h5"
echo "ok: full disk while checkpointing: warned, trained on, same result"
