# Entry point of the local OCPP 1.6J / 2.0.1 central system: `python tools/csms.py --help`.
"""Runs the CLI of the `tools/csms/` package.

Only a script: an `import csms` (or `tools.csms`) finds the package next to this
file, because a package directory wins over a module of the same name.
"""

import sys

from csms.cli import main

if __name__ == "__main__":
    sys.exit(main())
