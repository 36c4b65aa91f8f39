# `python -m tools.csms`: the same CLI as `python tools/csms.py`.
"""Module entry point of the CSMS command line."""

import sys

from .cli import main

sys.exit(main())
