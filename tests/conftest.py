# pytest set-up shared by host and device tests: device code is imported as the board sees it.
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The board has / and /lib on sys.path; the host mirrors that with the repo root and lib/.
for path in (os.path.join(ROOT, "lib"), ROOT, os.path.join(ROOT, "tests", "device")):
    if path not in sys.path:
        sys.path.insert(0, path)

# make test is deterministic: each property test tries the same examples on every run (seeded
# from the test itself), so a failure is found again, never met once in twenty runs.
try:
    from hypothesis import settings as _hypothesis
except ImportError:  # under a runner without it
    pass
else:
    _hypothesis.register_profile("deterministic", derandomize=True)
    _hypothesis.load_profile("deterministic")
