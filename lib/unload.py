# Modules that are done with: dropped from the import system so their RAM can be collected.
"""    unload.forget("ota.http", "ota.writer")

A frozen module's code stays in flash, but its module object, globals and function and
class objects live in the heap for as long as `sys.modules` (and its package) hold it. What
is needed once in a while (a firmware download, a schema table) is imported for the job and
forgotten after it; the next job imports it again. A module that something else still refers
to stays alive until that reference goes: forgetting it frees nothing then, and the next
import makes a second copy whose classes are not the first's (an `except ImageError` of one
does not catch the other's). So a module is forgotten together with, or after, the loaded
modules that imported names from it (ota.image with ota.writer).
"""

import sys


def forget(*names):
    for name in names:
        if sys.modules.pop(name, None) is None:
            continue
        dot = name.rfind(".")
        package = sys.modules.get(name[:dot]) if dot > 0 else None
        leaf = name[dot + 1:]
        if package is not None and hasattr(package, leaf):  # bound there by the import
            delattr(package, leaf)
