#!/usr/bin/python3
"""study_leak_vs_noise_grid.py -- the leak_vs_noise_grid study (docs/studies.md
sections 1 and 7): the leak-vs-noise tables (analysis/study_leak_vs_noise.py)
and the grid positive control's per-network measures, plateau exit and
GRID units (analysis/study_grid_positive_control.py), on the same files.

    python3 analysis/study_leak_vs_noise_grid.py RESULTS.h5 [MORE.h5 ...] -o DIR
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import study_grid_positive_control as gpc  # noqa: E402
import study_leak_vs_noise as lvn  # noqa: E402


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    return lvn.main(argv) or gpc.main(argv)


if __name__ == "__main__":
    sys.exit(main())
