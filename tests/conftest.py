# pytest set-up shared by host and device tests: device code is imported as the board sees it.
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The board has / and /lib on sys.path; the host mirrors that with the repo root and lib/.
for path in (os.path.join(ROOT, "lib"), ROOT, os.path.join(ROOT, "tests", "device")):
    if path not in sys.path:
        sys.path.insert(0, path)
