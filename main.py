# main.py: the device entry point (the board runs it after boot.py; the host runs it directly).
import sys

# lib/ beside this file: the board has /lib on sys.path already; on the host the firmware may
# be started from any folder (a service manager, a container), not only the repository's.
_slash = __file__.rfind("/")
_lib = __file__[:_slash + 1] + "lib"
if _lib not in sys.path:
    sys.path.append(_lib)

from firmware import app  # noqa: E402

app.main()
