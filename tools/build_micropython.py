#!/usr/bin/env python3
# The host twin of the ESP32 firmware build: MicroPython's unix port as a 32-bit binary.
"""Builds the real MicroPython interpreter twice, 32-bit like the ESP32 (31-bit small ints):

- plain:  MicroPython's own asyncio and ssl frozen in (tools/manifests/unix_plain.py), the
          firmware loaded as .mpy files, as `make deploy` puts them on a stock board;
- frozen: the firmware frozen in by the project's manifest.py, plus the simulated board
          (tools/manifests/unix_frozen.py), as `make firmware` builds the ESP32 image.

    python tools/build_micropython.py [--micropy-dir DIR] [--json]

MICROPY_DIR (or --micropy-dir) names a MicroPython source tree; the default is the v1.28.0
tarball in ../shared/micropython/, unpacked under build/. Each binary is cached under
build/mp32/ by the hash of its inputs (the MicroPython tree, the manifests, the frozen files,
the flags), so an unchanged tree is not rebuilt. The .mpy tree for the plain build is compiled
by that tree's own mpy-cross.

The build needs a 32-bit C library (Debian: gcc-multilib). When it is missing and this runs
as root with apt-get, as CI does, it is installed; otherwise nothing is built and the reason
is printed (`mp32: unavailable: ...`) and written to build/mp32/current.json, so the tests
that need these binaries skip with that reason.

The last line printed is the summary `make test` shows. Exit status 0 when built or
unavailable, 1 when a build failed.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import devicefiles  # noqa: E402

ROOT = devicefiles.ROOT
OUT = os.path.join(ROOT, "build", "mp32")
CURRENT = os.path.join(OUT, "current.json")
TARBALL = os.path.join(os.path.dirname(ROOT), "shared", "micropython", "micropython-1.28.0.tar.gz")
MANIFESTS = os.path.join(ROOT, "tools", "manifests")
# The README of ../shared/micropython: FFI and btree need submodules that are not there.
# MPY_CROSS_FLAGS: the viper code of lib/ota/p256v.py is compiled to machine code for the
# interpreter's own CPU, as the ESP32 port does with -march=xtensawin (its esp32_common.cmake);
# the unix Makefile sets it only for MICROPY_FORCE_32BIT, which these -m32 flags replace.
MPY_MARCH = "-march=x86"
MAKE_FLAGS = ["VARIANT=standard", "CFLAGS_EXTRA=-m32", "LDFLAGS_EXTRA=-m32",
              "MICROPY_PY_FFI=0", "MICROPY_PY_BTREE=0", "MPY_CROSS_FLAGS=" + MPY_MARCH]
VARIANTS = {"plain": "unix_plain.py", "frozen": "unix_frozen.py"}
# C modules of the frozen build only (the host twin of the board): simclock, the CPU-time
# clock of the simulated board's stall meter (firmware/sim/stall.py)
USERMODS = os.path.join(ROOT, "tools", "usermods")


def say(*args):
    print("build-micropython:", *args, flush=True)


# -- the source tree ---------------------------------------------------------------------
def source_tree(micropy_dir):
    """The MicroPython tree to build from: the one given, or the tarball unpacked once."""
    if micropy_dir:
        if not os.path.isfile(os.path.join(micropy_dir, "py", "mpconfig.h")):
            raise SystemExit("build-micropython: %s is not a MicroPython source tree" % micropy_dir)
        return os.path.abspath(micropy_dir)
    if not os.path.exists(TARBALL):
        return None
    tree = os.path.join(ROOT, "build", "micropython-1.28.0")
    marker = os.path.join(tree, ".unpacked")
    if not os.path.exists(marker):
        say("unpacking", os.path.relpath(TARBALL, ROOT))
        shutil.rmtree(tree, ignore_errors=True)
        with tarfile.open(TARBALL) as tar:
            tar.extractall(os.path.dirname(tree), filter="data")
        with open(marker, "w") as f:
            f.write(file_hash(TARBALL))
    return tree


def file_hash(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def tree_fingerprint(tree):
    """What identifies the MicroPython sources: the tarball's hash when unpacked from it,
    otherwise every file's path, size and modification time (fast, and a change shows)."""
    marker = os.path.join(tree, ".unpacked")
    if os.path.exists(marker):
        with open(marker) as f:
            return "tarball:" + f.read().strip()
    h = hashlib.sha256()
    for folder, dirs, files in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if not d.startswith("build") and d != ".git")
        for name in sorted(files):
            st = os.stat(os.path.join(folder, name))
            h.update(("%s %d %d\n" % (os.path.relpath(os.path.join(folder, name), tree),
                                      st.st_size, st.st_mtime_ns)).encode())
    return "tree:" + h.hexdigest()


def inputs_hash(tree_id, variant):
    """The cache key of one binary: the MicroPython tree, the flags, the manifests and the
    files they freeze."""
    h = hashlib.sha256()
    h.update(tree_id.encode())
    h.update(" ".join(MAKE_FLAGS + [variant]).encode())
    paths = [os.path.join(MANIFESTS, name) for name in sorted(os.listdir(MANIFESTS))]
    paths += [os.path.join(ROOT, "manifest.py"), os.path.join(ROOT, "tools", "devicefiles.py")]
    if variant == "frozen":
        paths += [os.path.join(ROOT, rel) for rel in devicefiles.frozen(sim=True)]
        paths += [os.path.join(folder, name) for folder, _, names in sorted(os.walk(USERMODS))
                  for name in sorted(names)]
    for path in paths:
        h.update(os.path.relpath(path, ROOT).encode() + b"\0")
        h.update(file_hash(path).encode())
    return h.hexdigest()[:16]


# -- the 32-bit C toolchain -----------------------------------------------------------------
def can_build_32bit():
    """True when gcc links a 32-bit program here."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "t.c")
        with open(src, "w") as f:
            f.write("#include <stdio.h>\nint main(void){puts(\"ok\");return 0;}\n")
        try:
            proc = subprocess.run(["gcc", "-m32", src, "-o", os.path.join(tmp, "t")],
                                  capture_output=True, text=True)
        except OSError:
            return False
        return proc.returncode == 0


def ensure_toolchain():
    """None when 32-bit builds work (installing gcc-multilib if we may), else the reason."""
    if shutil.which("gcc") is None or shutil.which("make") is None:
        return "gcc and make are needed"
    if can_build_32bit():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "gcc -m32 cannot link: install gcc-multilib (needs root and apt-get)"
    say("installing gcc-multilib with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "gcc-multilib"]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode:
        subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
        subprocess.run(install, env=env, stdout=subprocess.DEVNULL)
    if can_build_32bit():
        return None
    return "gcc -m32 still cannot link after installing gcc-multilib"


# -- the builds -----------------------------------------------------------------------------
def run_make(args, log_path):
    # The unpacked tree sits inside this repository: without a ceiling, MicroPython's version
    # header would take this repository's `git describe` for its own version.
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=os.path.join(ROOT, "build"))
    with open(log_path, "w") as log:
        proc = subprocess.run(["make", "-j%d" % (os.cpu_count() or 2)] + args,
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    if proc.returncode:
        with open(log_path) as f:
            tail = f.read()[-3000:]
        raise RuntimeError("%s failed (log %s):\n%s" % (" ".join(args[:2]), log_path, tail))


def build_variant(tree, tree_id, variant):
    """Path of the cached binary of `variant`, building it when its inputs changed."""
    key = inputs_hash(tree_id, variant)
    home = os.path.join(OUT, "%s-%s" % (variant, key))
    binary = os.path.join(home, "micropython")
    if os.path.exists(binary):
        return binary, key, True
    objects = os.path.join(OUT, "obj-" + variant)  # make's own incremental build folder
    # The frozen code is regenerated every time: makemanifest compiles a .py only when it is
    # newer than its .mpy, so a file that went back in time (a git checkout, another tree of
    # the same project) would be frozen stale. The interpreter's own objects stay.
    shutil.rmtree(os.path.join(objects, "frozen_mpy"), ignore_errors=True)
    for generated in ("frozen_content.c", "frozen_content.o"):
        try:
            os.remove(os.path.join(objects, generated))
        except OSError:
            pass
    os.makedirs(OUT, exist_ok=True)
    say("building the %s interpreter (%s)" % (variant, key))
    extra = ["USER_C_MODULES=" + USERMODS] if variant == "frozen" else []
    run_make(["-C", os.path.join(tree, "ports", "unix"), "BUILD=" + objects,
              "FROZEN_MANIFEST=" + os.path.join(MANIFESTS, VARIANTS[variant])] + MAKE_FLAGS
             + extra,
             os.path.join(OUT, "build-%s.log" % variant))
    for old in os.listdir(OUT):  # one cached binary per variant
        if old.startswith(variant + "-"):
            shutil.rmtree(os.path.join(OUT, old), ignore_errors=True)
    os.makedirs(home)
    shutil.copy2(os.path.join(objects, "micropython"), binary)
    frozen_o = os.path.join(objects, "frozen_content.o")
    with open(os.path.join(home, "frozen.json"), "w") as f:
        json.dump(frozen_sizes(frozen_o), f)
    return binary, key, False


def frozen_sizes(obj):
    """Bytes of frozen code and constant data (text + data of frozen_content.o, 32-bit)."""
    out = subprocess.run(["size", obj], capture_output=True, text=True).stdout.split("\n")
    text, data = (int(x) for x in out[1].split()[:2])
    return {"text": text, "data": data, "total": text + data}


def build_mpy_tree(tree, key):
    """The device files compiled by this tree's mpy-cross (viper code for x86), laid out as
    on a board: main.py, firmware/ as .mpy, the libraries of lib/ on a lib/ folder that
    main.py puts on sys.path."""
    mpy_cross = os.path.join(tree, "mpy-cross", "build", "mpy-cross")
    home = os.path.join(OUT, "mpy-" + key)
    if os.path.isdir(home):
        return home
    for old in os.listdir(OUT):
        if old.startswith("mpy-"):
            shutil.rmtree(os.path.join(OUT, old), ignore_errors=True)
    staging = "%s.%d.tmp" % (home, os.getpid())
    shutil.rmtree(staging, ignore_errors=True)
    for rel in devicefiles.frozen(sim=True):
        if rel == "main.py":
            shutil.copy2(os.path.join(ROOT, rel), os.path.join(staging, rel))
            continue
        target = os.path.join(staging, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        subprocess.run([mpy_cross, MPY_MARCH, "-o", target, "-s", rel, rel], cwd=ROOT, check=True)
    try:
        os.rename(staging, home)
    except OSError:  # another run made the same tree meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return home


def mpy_key(tree_id):
    h = hashlib.sha256((tree_id + MPY_MARCH).encode())
    for rel in devicefiles.frozen(sim=True):
        h.update(rel.encode() + b"\0" + file_hash(os.path.join(ROOT, rel)).encode())
    return h.hexdigest()[:16]


def build_all(micropy_dir):
    tree = source_tree(micropy_dir)
    if tree is None:
        return {"available": False,
                "reason": "no MicroPython source: %s is missing and MICROPY_DIR is not set" % TARBALL}
    problem = ensure_toolchain()
    if problem:
        return {"available": False, "reason": problem}
    tree_id = tree_fingerprint(tree)
    mpy_cross = os.path.join(tree, "mpy-cross", "build", "mpy-cross")
    if not os.path.exists(mpy_cross):
        say("building mpy-cross")
        os.makedirs(OUT, exist_ok=True)
        run_make(["-C", os.path.join(tree, "mpy-cross")], os.path.join(OUT, "build-mpy-cross.log"))
    result = {"available": True, "micropy_dir": tree, "cached": []}
    for variant in VARIANTS:
        binary, key, cached = build_variant(tree, tree_id, variant)
        result[variant] = binary
        with open(os.path.join(os.path.dirname(binary), "frozen.json")) as f:
            result[variant + "_frozen_bytes"] = json.load(f)
        if cached:
            result["cached"].append(variant)
    result["mpy_tree"] = build_mpy_tree(tree, mpy_key(tree_id))
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--micropy-dir", default=os.environ.get("MICROPY_DIR") or None)
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args()
    try:
        result = build_all(args.micropy_dir)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(e)
        print("mp32: build FAILED")
        return 1
    os.makedirs(OUT, exist_ok=True)
    tmp = "%s.%d.tmp" % (CURRENT, os.getpid())  # several test runs may build at once
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, CURRENT)
    if args.json:
        print(json.dumps(result, indent=1))
    if not result["available"]:
        print("mp32: unavailable: " + result["reason"])
        return 0
    app = result["frozen_frozen_bytes"]["total"] - result["plain_frozen_bytes"]["total"]
    print("mp32: plain and frozen 32-bit interpreters ready (%s), frozen firmware %d bytes" % (
        "cached" if len(result["cached"]) == 2 else "built", app))
    return 0


if __name__ == "__main__":
    sys.exit(main())
