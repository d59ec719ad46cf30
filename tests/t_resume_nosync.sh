#!/usr/bin/env bash
# t_resume_nosync.sh -- the kill -9 / resume cycle of t_resume.sh with
# `output: {sync: none}` (no fsync): the status is still written after the
# data, and the page cache outlives a killed job, so every task marked done
# must be complete after each kill (docs/running.md, "Durability").
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh   # the same environment for t_resume.sh
SYNC=none bash tests/t_resume.sh
