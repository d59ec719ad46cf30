#!/usr/bin/env bash
# t_torch_oracle.sh -- the float networks (src/model/rnn.c) and Adam (src/model/adam.c)
# against PyTorch autograd and torch.optim.Adam: every cell x activation
# with cross-entropy targets and every cell with the Cartesian MSE target
# (tests/ref/rnn_dump.c writes the cases, tests/ref/rnn_torch.py checks
# them).  Needs Debian's python3-torch; exits non-zero on any mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh   # BUILD, PYTHON, one OpenBLAS thread, fail
"$PYTHON" -c 'import torch' 2>/dev/null ||
  fail "$PYTHON cannot import torch (Debian: apt-get install python3-torch)"
out=$BUILD/tests/ref
mkdir -p "$out"
rm -rf "$out/rnn_cases"
# rnn_dump is built by make (same flags as the library, sanitizers included)
[ -x "$out/rnn_dump" ] || fail "$out/rnn_dump is missing (run make first)"
"$out/rnn_dump" "$out/rnn_cases"
"$PYTHON" tests/ref/rnn_torch.py "$out/rnn_cases"
