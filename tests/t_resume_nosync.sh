#!/usr/bin/env bash
# t_resume_nosync.sh -- the kill -9 / resume cycle of t_resume.sh with
# `output: {sync: none}` (no fsync): the status is still written after the
# data, and the page cache outlives a killed job, so every task marked done
# must be complete after each kill (docs/running.md, "Durability").
SYNC=none exec bash "$(dirname "$0")/t_resume.sh"
