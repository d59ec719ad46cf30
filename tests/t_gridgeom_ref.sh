#!/usr/bin/env bash
# t_gridgeom_ref.sh -- `sweep score` against an independent numpy/scipy
# implementation of the grid geometry, band, ramp, coherence, spatial
# information and classification (tests/ref/gridgeom_ref.py), and the known
# answers of synthetic maps:
#  1. gridgeom_ref.py make writes 140 maps (G = 40, bin_cm 2.5): hexagonal
#     lattices (spacing 6, 8, 10, 12 bins x 5 orientations), stretched ones
#     (ellipticity 0.9 and 0.8, 3 stretch axes), square lattices, bands (3
#     periods x 6 angles), planar ramps at every 5 degrees from 0 to 180,
#     wall fields, 40 white-noise maps, maps with unvisited bins, a flat and
#     an empty map; plus an occupancy map.
#  2. sweep score MAPS -o OUT --csv; gridgeom_ref.py check compares every
#     unit with the reference (scores 1e-4, geometry 1e-4, classes equal)
#     and with the known answers (spacing within 1 bin, orientation within
#     3 degrees, ellipticity within 0.05, hexagonal -> GRID, ramps never
#     GRID and always RAMP, bands BAND, wall fields BORDER, square lattices
#     not six peaks, noise >= 90% NON_SPATIAL and <= 5% GRID).
#  3. bad inputs: exit 2 with a message naming the file and dataset; an
#     existing output without --force: exit 4, untouched; nothing .tmp left.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh

"$PYTHON" tests/ref/gridgeom_ref.py make "$tmp/maps.h5" || fail "making the maps"
"$SWEEP" score "$tmp/maps.h5" -o "$tmp/out.h5" --csv > "$tmp/out.csv" 2> "$tmp/err" ||
  { cat "$tmp/err"; fail "sweep score exited $?"; }
[ -f "$tmp/out.h5" ] && [ ! -e "$tmp/out.h5.tmp" ] || fail "no output, or a .tmp left behind"
"$PYTHON" tests/ref/gridgeom_ref.py check "$tmp/maps.h5" "$tmp/out.h5" "$tmp/out.csv" ||
  fail "sweep score differs from the reference or from the known answers"

# ---- output refused / forced -----------------------------------------------
sum0=$(md5sum < "$tmp/out.h5")
"$SWEEP" score "$tmp/maps.h5" -o "$tmp/out.h5" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc = 4 ] || fail "existing output without --force: exit $rc, want 4"
grep -q "force" "$tmp/err" || fail "refusal does not mention --force: $(cat "$tmp/err")"
[ "$(md5sum < "$tmp/out.h5")" = "$sum0" ] || fail "the refused output was modified"
"$SWEEP" score "$tmp/maps.h5" -o "$tmp/out.h5" --force > /dev/null || fail "--force did not overwrite"
echo "ok: refused without --force (4), overwritten with it"

# ---- bad inputs: exit 2, the file and dataset named -------------------------
"$PYTHON" - "$tmp" <<'PY' || fail "making the bad inputs"
import sys, numpy as np, h5py
d = sys.argv[1]
ok = np.random.default_rng(1).uniform(size=(2, 12, 12))
def mk(name, **ds):
    with h5py.File(f"{d}/{name}.h5", "w") as f:
        for k, v in ds.items():
            f.create_dataset(k, data=v)
mk("missing", other=ok)
mk("rank2", ratemaps=ok[0])
mk("nonsquare", ratemaps=ok[:, :, :10])
mk("intmaps", ratemaps=(ok * 10).astype(np.int32))
mk("allnan", ratemaps=np.full((2, 12, 12), np.nan))
mk("small", ratemaps=ok[:, :7, :7])
mk("inf", ratemaps=np.where(ok > 0.5, np.inf, ok))
mk("badocc", ratemaps=ok, occupancy=np.ones((3, 3)))
mk("negocc", ratemaps=ok, occupancy=-np.ones((12, 12)))
with h5py.File(f"{d}/badbin.h5", "w") as f:
    f.create_dataset("ratemaps", data=ok).attrs["bin_cm"] = -1.0
open(f"{d}/text.h5", "w").write("not hdf5\n")
PY
bad() {  # name words...
  local name=$1; shift
  "$SWEEP" score "$tmp/$name.h5" -o "$tmp/o_$name.h5" > "$tmp/o" 2> "$tmp/e"; local rc=$?
  [ $rc = 2 ] || fail "$name: exit $rc, want 2 ($(cat "$tmp/e"))"
  grep -q "$tmp/$name.h5" "$tmp/e" || fail "$name: the message does not name the file: $(cat "$tmp/e")"
  for w in "$@"; do grep -q -- "$w" "$tmp/e" || fail "$name: no '$w' in: $(cat "$tmp/e")"; done
  [ ! -e "$tmp/o_$name.h5" ] && [ ! -e "$tmp/o_$name.h5.tmp" ] || fail "$name: an output was written"
  echo "ok: $name -> 2: $(head -c 150 "$tmp/e")"
}
bad missing /ratemaps
bad rank2 /ratemaps rank
bad nonsquare /ratemaps square
bad intmaps /ratemaps float
bad allnan /ratemaps NaN
bad small /ratemaps "G = 7"
bad inf /ratemaps infinite
bad badocc /occupancy shape
bad negocc /occupancy negative
bad badbin bin_cm
bad text "not an HDF5"
bad nonexistent "cannot read"
"$SWEEP" score "$tmp/maps.h5" > /dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "no -o and no --csv: exit $rc, want 2"
"$SWEEP" score "$tmp/maps.h5" -o "$tmp/maps.h5" > /dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "output = input: exit $rc, want 2"
echo "t_gridgeom_ref: ok"
