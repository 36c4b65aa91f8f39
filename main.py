# main.py: the device entry point (the board runs it after boot.py; the host runs it directly).
import sys

if "lib" not in sys.path:
    sys.path.append("lib")  # the board's /lib is on sys.path already; the host needs ./lib

from firmware import app  # noqa: E402

app.main()
