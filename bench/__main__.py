"""`python -m bench all|NAME`: run the benchmarks and print their tables."""

import sys

from bench.runner import main

sys.exit(main())
