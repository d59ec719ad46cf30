#!/usr/bin/env bash
# t_studies.sh -- the studies (docs/studies.md): every spec under sweeps/,
# sweeps/laptop/ and sweeps/probes/ parses and expands (`sweep --dry-run`); every study of the
# Makefile's STUDIES has both sizes, writing to different files; the laptop
# size costs less than the cluster size and fits the laptop budget
# (analysis/study_cost.c, the scheduler's task_cost); `make study` refuses an
# unknown NAME or SIZE before doing anything; the study analysis scripts run
# on a fixture file.  No MPI, no training: a few seconds.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh   # BUILD, SWEEP, PYTHON, tmp removed at exit, soft_fail

# 1. every spec parses and expands
n=0
for f in sweeps/*.yaml sweeps/laptop/*.yaml sweeps/probes/*.yaml; do
  [ -f "$f" ] || continue
  n=$((n+1))
  if ! "$SWEEP" --dry-run "$f" >"$tmp/out" 2>"$tmp/err"; then
    soft_fail "$f: --dry-run exit $?: $(head -3 "$tmp/err")"; continue
  fi
  tail -1 "$tmp/out" | grep -Eq '^[0-9]+ combinations?, [1-9][0-9]* tasks?' ||
    soft_fail "$f: --dry-run does not end with 'N combinations, M tasks': $(tail -1 "$tmp/out")"
done
[ "$n" -ge 10 ] || soft_fail "only $n specs under sweeps/ and sweeps/laptop/"

# 2. every study has both sizes, with different output files
studies=$(sed -n 's/^STUDIES *:= *//p' Makefile)
[ -n "$studies" ] || soft_fail "no STUDIES := line in the Makefile"
for s in $studies; do
  for f in "sweeps/$s.yaml" "sweeps/laptop/$s.yaml"; do
    [ -f "$f" ] || soft_fail "study $s: missing $f"
  done
  oc=$("$SWEEP" --dry-run "sweeps/$s.yaml" 2>/dev/null | sed -n 's/^output: //p')
  ol=$("$SWEEP" --dry-run "sweeps/laptop/$s.yaml" 2>/dev/null | sed -n 's/^output: //p')
  [ -n "$oc" ] && [ "$oc" != "$ol" ] || soft_fail "study $s: cluster and laptop sizes write the same file '$oc'"
done
# every laptop spec belongs to a study
for f in sweeps/laptop/*.yaml; do
  b=$(basename "$f" .yaml)
  [[ " $studies " == *" $b "* ]] || soft_fail "$f is not a study of the Makefile's STUDIES"
done

# 3. cost: laptop < cluster, and the laptop size fits an hour on 2 workers
if make -s --no-print-directory BUILD="$BUILD" "$BUILD/study_cost" >"$tmp/mk" 2>&1; then
  for s in $studies; do
    lap=$("$BUILD/study_cost" "sweeps/laptop/$s.yaml") || { soft_fail "study_cost laptop $s"; continue; }
    clu=$("$BUILD/study_cost" "sweeps/$s.yaml") || { soft_fail "study_cost cluster $s"; continue; }
    gl=$(echo "$lap" | sed -E 's/.* tasks, ([0-9.e+]+) GFLOP.*/\1/')
    gc=$(echo "$clu" | sed -E 's/.* tasks, ([0-9.e+]+) GFLOP.*/\1/')
    ml=$(echo "$lap" | sed -E 's/.*~([0-9.e+]+) min on 2 workers.*/\1/')
    awk -v a="$gl" -v b="$gc" 'BEGIN{exit !(a + 0 < b + 0)}' ||
      soft_fail "study $s: laptop cost $gl GFLOP not below the cluster's $gc"
    awk -v m="$ml" 'BEGIN{exit !(m + 0 < 60)}' ||
      soft_fail "study $s: laptop size estimated at $ml min on 2 workers (> 60)"
  done
  "$BUILD/study_cost" sweeps/no-such.yaml >/dev/null 2>&1 && soft_fail "study_cost accepted a missing spec"
else
  soft_fail "cannot build $BUILD/study_cost: $(tail -3 "$tmp/mk")"
fi

# 4. make study refuses unknown NAME / SIZE (before deps, build or mpirun)
check_refuse() {  # want-in-stderr, make args...
  local want=$1; shift
  if make -s --no-print-directory BUILD="$BUILD" study "$@" >"$tmp/out" 2>"$tmp/err"; then
    soft_fail "make study $*: succeeded"
  fi
  grep -q "$want" "$tmp/err" || soft_fail "make study $*: stderr lacks '$want': $(head -3 "$tmp/err")"
  grep -q "mpirun\|install-deps" "$tmp/out" && soft_fail "make study $*: ran something before refusing"
}
check_refuse "unknown NAME" NAME=no_such_study SIZE=laptop
check_refuse "unknown NAME" SIZE=laptop
check_refuse "unknown SIZE" NAME=leak_vs_noise SIZE=huge
check_refuse "unknown SIZE" NAME=leak_vs_noise
check_refuse "unknown NAME" "NAME=leak_vs_noise replay" SIZE=laptop

# 5. the study analysis scripts run on a fixture (synthetic numbers)
if "$PYTHON" tests/make_fake_results.py -o "$tmp/fake.h5" --no-replay --ratemaps all >"$tmp/fk" 2>&1; then
  # one line per study script: its name, then the files it must write
  while read -r name files; do
    "$PYTHON" "analysis/$name.py" "$tmp/fake.h5" -o "$tmp/$name" >"$tmp/$name.log" 2>&1 ||
      soft_fail "$name.py on the fixture: $(tail -3 "$tmp/$name.log")"
    for f in $files; do
      [ -s "$tmp/$name/$f" ] || soft_fail "$name.py wrote no $f"
    done
  done <<'LIST'
study_leak_vs_noise lvn_tasks.csv lvn_groups.csv lvn_headline.csv robustness.png lvn_summary.txt
study_linear_rnn linear_stages.csv linear_groups.csv loss_curves.png loss_by_tau.png linear_summary.txt
study_cueva_wei cw_tasks.csv cw_groups.csv cw_units.png cw_summary.txt
study_grid_positive_control gpc_tasks.csv gpc_groups.csv gpc_units.png gpc_training.png gpc_summary.txt
study_leak_vs_noise_grid lvn_summary.txt gpc_summary.txt
LIST
else
  soft_fail "make_fake_results.py: $(tail -3 "$tmp/fk")"
fi

# the stage counter on synthetic curves: one sigmoid drop vs two
"$PYTHON" - <<'EOF' || soft_fail "study_linear_rnn.count_drops on synthetic curves"
import sys, numpy as np
sys.path.insert(0, "analysis")
import study_linear_rnn as m
s = np.arange(20, 4001, 20, dtype=float)
x = np.log10(s)
one = 4.0 - 1.5 / (1 + np.exp(-(x - 2.5) * 12))
two = 4.0 - 1.0 / (1 + np.exp(-(x - 2.0) * 12)) - 1.0 / (1 + np.exp(-(x - 3.2) * 12))
assert m.count_drops(s, one) == 1, m.count_drops(s, one)
assert m.count_drops(s, two) == 2, m.count_drops(s, two)
assert abs(m.crossing(s, one, 0.5) - 10 ** 2.5) < 40
EOF

# the positive control's measures on known inputs: the predicted spacing
# (sigma 0.12 m, surround 2: k* = sqrt(2 ln 2) / 0.12 rad/m, 73.94 cm), the
# orientation spread mod 60 deg, the plateau exit
"$PYTHON" - <<'EOF' || soft_fail "study_grid_positive_control measures on known inputs"
import math, sys, numpy as np
sys.path.insert(0, "analysis")
import study_grid_positive_control as g
sp = g.predicted_spacing_cm(0.12, 2.0)
assert abs(sp - 73.944) < 0.005, sp
assert math.isnan(g.predicted_spacing_cm(0.12, 1.0))
assert g.circ_sd_60([10, 10, 10]) < 1e-3
assert g.circ_sd_60([-29, 29]) < 2.5          # the same lattice axis across the wrap at +-30 deg
assert g.circ_sd_60([0, 15, 30, 45]) > 20
steps = np.arange(0, 1001, 100)
err = np.array([95, 94, 96, 93, 60, 40, 30, 20, 15, 12, 10], float)
assert g.plateau_exit(steps, err, 0.5) == 500
assert math.isnan(g.plateau_exit(steps, np.full(11, 95.0), 0.5))
EOF

[ "$failures" -eq 0 ] && echo "t_studies: ok ($n specs)"
exit $((failures > 0))
