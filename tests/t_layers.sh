#!/usr/bin/env bash
# t_layers.sh -- the layers of docs/design.md hold:
#  1. the core (src/base, spec, model, score, task) is compiled without the
#     MPI and HDF5 include paths: a core file that includes <mpi.h> or
#     <hdf5.h> fails to build (make core-probe compiles a file exactly as the
#     core is compiled), while one that includes every core header builds;
#  2. every #include "layer/x.h" in src/ names its own layer or one it may
#     use (the table below, lowest layer first), and <mpi.h> / <hdf5.h>
#     appear only in io, farm and cli.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh

# ---- 1. the core cannot see MPI or HDF5 ------------------------------------
printf '#include <mpi.h>\nint f(void);\n' >"$tmp/mpi.c"
printf '#include <hdf5.h>\nint f(void);\n' >"$tmp/hdf5.c"
{ for h in src/base/*.h src/spec/*.h src/model/*.h src/score/*.h src/task/*.h; do
    [ "$h" = src/model/rnn_generic.h ] && continue   # a template, included by rnn.h
    echo "#include \"${h#src/}\""; done; echo 'int f(void);'; } >"$tmp/core.c"
make -s core-probe PROBE="$tmp/core.c" >"$tmp/core.log" 2>&1 ||
  { cat "$tmp/core.log"; fail "the core headers do not compile as the core is compiled"; }
for p in mpi hdf5; do
  if make -s core-probe PROBE="$tmp/$p.c" >"$tmp/$p.log" 2>&1; then
    fail "a core file including <$p.h> compiled: the core sees the $p include path"
  fi
  grep -q "$p.h" "$tmp/$p.log" || { cat "$tmp/$p.log"; fail "core-probe of <$p.h> failed for another reason"; }
done
echo "ok: <mpi.h> and <hdf5.h> fail to compile in the core; every core header compiles there"

# ---- 2. includes go down the layers only -----------------------------------
declare -A may=(
  [base]="base"
  [spec]="base spec"
  [model]="base model"
  [score]="base model score"
  [task]="base model score task"
  [io]="base spec task io"
  [farm]="base spec model score task io farm"
  [cli]="base spec model score task io farm cli"
)
bad=0
for dir in src/*/; do
  layer=$(basename "$dir")
  [ -n "${may[$layer]+x}" ] || { echo "src/$layer: a folder that is no layer of the table"; bad=1; continue; }
  for f in "$dir"*; do
    while IFS= read -r line; do
      inc=${line#*\"}; inc=${inc%%\"*}
      to=${inc%%/*}
      if [ "$to" = "$inc" ]; then echo "$f: #include \"$inc\" names no layer"; bad=1; continue; fi
      [[ " ${may[$layer]} " == *" $to "* ]] || { echo "$f: $layer may not include $inc"; bad=1; }
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
    case $layer in io|farm|cli) ;; *)
      if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(mpi|hdf5|H5[A-Za-z]*)\.h>' "$f"; then
        echo "$f: the core includes MPI or HDF5"; bad=1; fi ;;
    esac
  done
done
[ $bad = 0 ] || fail "includes that go up the layers (docs/design.md, Layers)"
echo "ok: every include in src/ goes down the layers"
