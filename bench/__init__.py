"""StudyMate benchmarks: `python -m bench [--quick]`.

Every machine-dependent figure is measured beside a baseline in the same run and reported as a
ratio (median of several repetitions, with min and max). `bench/eval/` is a separate
retrieval-quality evaluation run as scripts; it is not imported from here.
"""

from __future__ import annotations
