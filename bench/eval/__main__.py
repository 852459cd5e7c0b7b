"""`python -m bench.eval`: see run.py."""

from bench.eval.run import main

main()
