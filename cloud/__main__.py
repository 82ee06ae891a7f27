"""Entry point for `python -m cloud`."""

import sys

from cloud.cli import main

sys.exit(main())
