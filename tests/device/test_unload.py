# Device tests of lib/unload.py: a forgotten module leaves sys.modules and its package, comes
# back on the next import, and (MicroPython) its RAM is collected.
import gc
import sys

import unload
from devtest import measures_heap


def test_forget_drops_the_module_and_the_package_binding():
    import ota.bundle  # noqa: F401 (a small module nothing else here holds)
    import ota
    assert "ota.bundle" in sys.modules and hasattr(ota, "bundle")
    unload.forget("ota.bundle", "no.such.module")
    assert "ota.bundle" not in sys.modules, "still in sys.modules"
    assert not hasattr(ota, "bundle"), "still bound on the package"
    from ota.bundle import BundleReader  # imported again on demand
    assert BundleReader and "ota.bundle" in sys.modules


@measures_heap
def test_a_forgotten_module_gives_its_ram_back():
    unload.forget("ota.x509", "ota.signature", "ota.der")
    # What the three import and that stays loaded, shared with the rest of the firmware:
    # ota.der's calendar, and the step runner with the loop it sleeps on
    import civil  # noqa: F401
    import steps  # noqa: F401
    gc.collect()
    before = gc.mem_alloc()
    import ota.x509  # noqa: F401
    gc.collect()
    loaded = gc.mem_alloc() - before
    unload.forget("ota.x509", "ota.signature", "ota.der")
    gc.collect()
    left = gc.mem_alloc() - before
    assert loaded > 500 and left < loaded // 4, "imported %d bytes, %d left" % (loaded, left)
