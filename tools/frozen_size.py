#!/usr/bin/env python3
# How many bytes the frozen firmware adds to a MicroPython image (the ESP32's 1.5 MiB OTA slot).
"""Measures the frozen application: the bytes (text + data, 32-bit) that the application part
of manifest.py adds to an ESP32 image, i.e. main.py, firmware/ and lib/ as
`devicefiles.frozen(sim=False)` lists them, without MicroPython's own asyncio and ssl (the stock
image has those) and without the simulated board.

    python tools/frozen_size.py [--micropy-dir DIR] [--json]

It freezes them the way the ESP32 build does, with the MicroPython tree's own tools: its
`tools/makemanifest.py` runs the project's manifest.py (board=False, sim=False), compiling each
file with the tree's mpy-cross (`-march=xtensawin`, the ESP32 port's flags) and freezing the
.mpy files with `tools/mpy-tool.py` against the qstrs the interpreter already has; the
resulting frozen_content.c is compiled with `gcc -m32` and the exact flags the 32-bit unix
build uses for its frozen_content.o (taken from `make -n` in ports/unix, with the generated
headers of build/mp32/obj-frozen), and `size` gives text + data.

Close to, not exactly, the ESP32 figure: the qstrs the ESP32 core already has differ a little
from the unix port's (a qstr the unix core lacks is counted here), and the C structures are laid
out for x86-32 instead of Xtensa (both 32-bit, 4-byte pointers).

The result is cached under build/frozen-size/ by the hash of its inputs. When no 32-bit C
toolchain is available (no build/mp32, see tools/build_micropython.py), it falls back to the sum
of the .mpy files' sizes and says so.
"""

import argparse
import contextlib
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_micropython  # noqa: E402
import devicefiles  # noqa: E402

ROOT = devicefiles.ROOT
OUT = os.path.join(ROOT, "build", "frozen-size")
GENHDR = os.path.join(build_micropython.OUT, "obj-frozen", "genhdr")
METHOD_C = "frozen_content.o (mpy-cross, mpy-tool freeze, gcc -m32 with the unix build's flags)"

# What can be measured: the ESP32 manifest's application part, and (for comparison) the whole
# frozen content of the host twin's frozen build.
KINDS = {
    "app": {"manifest": 'include(%r, board=False, sim=False)\n' % os.path.join(ROOT, "manifest.py"),
            "port": "esp32", "mpy_cross_flags": "-march=xtensawin"},
    "unix-frozen": {"manifest_file": os.path.join(build_micropython.MANIFESTS, "unix_frozen.py"),
                    "port": "unix", "mpy_cross_flags": build_micropython.MPY_MARCH},
}


class Unavailable(Exception):
    """The measurement cannot be made here (the reason is the message)."""


def say(*args):
    print("frozen-size:", *args, file=sys.stderr, flush=True)


def tree_of(micropy_dir):
    with contextlib.redirect_stdout(sys.stderr):  # "unpacking ..." is not part of the answer
        tree = build_micropython.source_tree(micropy_dir)
    if tree is None:
        raise Unavailable("no MicroPython source: %s is missing and MICROPY_DIR is not set"
                          % build_micropython.TARBALL)
    return tree


def ensure_mpy_cross(tree):
    mpy_cross = os.path.join(tree, "mpy-cross", "build", "mpy-cross")
    if not os.path.exists(mpy_cross):
        say("building mpy-cross")
        os.makedirs(OUT, exist_ok=True)
        with contextlib.redirect_stdout(sys.stderr):
            build_micropython.run_make(["-C", os.path.join(tree, "mpy-cross")],
                                       os.path.join(OUT, "build-mpy-cross.log"))
    return mpy_cross


def ensure_genhdr(micropy_dir):
    """The generated headers of the 32-bit frozen unix build (qstrs, root pointers), building
    it with tools/build_micropython.py when it was never built."""
    if not os.path.exists(os.path.join(GENHDR, "qstrdefs.preprocessed.h")):
        say("no build/mp32 yet: building the 32-bit interpreters (tools/build_micropython.py)")
        with contextlib.redirect_stdout(sys.stderr):
            result = build_micropython.build_all(micropy_dir)
        if not result["available"]:
            raise Unavailable(result["reason"])
    return GENHDR


def inputs_key(kind, tree, compile_cmd):
    """The cache key: the MicroPython tree, what is measured and how, every device file, the
    manifests and the generated headers frozen against."""
    h = hashlib.sha256()
    h.update(build_micropython.tree_fingerprint(tree).encode())
    h.update(json.dumps([kind, KINDS[kind], compile_cmd], sort_keys=True).encode())
    paths = [os.path.join(ROOT, rel) for rel in devicefiles.all_files()]
    paths += [os.path.join(ROOT, "manifest.py"), os.path.join(ROOT, "tools", "devicefiles.py")]
    paths += [os.path.join(build_micropython.MANIFESTS, n)
              for n in sorted(os.listdir(build_micropython.MANIFESTS))]
    paths += [os.path.join(GENHDR, n) for n in sorted(os.listdir(GENHDR)) if n.endswith(".h")]
    for path in paths:
        h.update(path.encode() + b"\0" + build_micropython.file_hash(path).encode())
    return h.hexdigest()[:16]


def compile_command(tree, work, manifest):
    """The unix port's own command line for frozen_content.o (make -n, nothing is run), for a
    build folder `work`; returns (argv without the -MD/-MF dependency options, cwd)."""
    unix = os.path.join(tree, "ports", "unix")
    target = os.path.join(work, "frozen_content.o")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    proc = subprocess.run(["make", "-n", "BUILD=" + work, "FROZEN_MANIFEST=" + manifest]
                          + build_micropython.MAKE_FLAGS + [target],
                          cwd=unix, capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if "-o " + target in line and " -c " in line:
            argv = shlex.split(line.split(" || ")[0])
            break
    else:
        raise RuntimeError("no compile line for frozen_content.o in `make -n` of ports/unix:\n"
                           + (proc.stderr or proc.stdout)[-2000:])
    kept = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "-MF":
            skip = True
        elif arg != "-MD":
            kept.append(arg)
    return kept, unix


def object_sizes(obj):
    out = subprocess.run(["size", obj], capture_output=True, text=True, check=True).stdout
    text, data = (int(x) for x in out.splitlines()[1].split()[:2])
    return text, data


def freeze(kind, tree, work):
    """Runs makemanifest.py for `kind` into `work`: frozen_content.c and frozen_mpy/*.mpy."""
    spec = KINDS[kind]
    manifest = spec.get("manifest_file")
    if manifest is None:
        manifest = os.path.join(work, "manifest.py")
        with open(manifest, "w") as f:
            f.write(spec["manifest"])
    cmd = [sys.executable, os.path.join(tree, "tools", "makemanifest.py"),
           "-o", os.path.join(work, "frozen_content.c"), "-b", work,
           "-v", "MPY_DIR=" + tree,
           "-v", "PORT_DIR=" + os.path.join(tree, "ports", spec["port"]),
           "-v", "MPY_LIB_DIR=" + os.path.join(tree, "lib", "micropython-lib")]
    if spec["mpy_cross_flags"]:
        cmd.append("-f" + spec["mpy_cross_flags"])
    env = {k: v for k, v in os.environ.items() if k != "MICROPY_MPYCROSS"}
    proc = subprocess.run(cmd + [manifest], cwd=work, capture_output=True, text=True, env=env)
    if proc.returncode:
        raise RuntimeError("makemanifest.py failed:\n" + (proc.stdout + proc.stderr)[-3000:])
    mpys = []
    for folder, _, files in os.walk(os.path.join(work, "frozen_mpy")):
        mpys += [os.path.join(folder, n) for n in files if n.endswith(".mpy")]
    return manifest, sorted(mpys)


def measure(kind="app", micropy_dir=None):
    """{"bytes", "text", "data", "modules", "mpy_bytes", "method"} for `kind` (see KINDS)."""
    tree = tree_of(micropy_dir)
    ensure_mpy_cross(tree)
    try:
        genhdr = ensure_genhdr(micropy_dir)
    except Unavailable as e:
        if kind != "app":
            raise
        return mpy_sum(kind, tree, str(e))
    work = os.path.join(OUT, "work-" + kind)
    spec = KINDS[kind]
    manifest = spec.get("manifest_file") or os.path.join(work, "manifest.py")
    compile_cmd, cwd = compile_command(tree, work, manifest)
    key = inputs_key(kind, tree, compile_cmd)
    cached = os.path.join(OUT, "%s-%s.json" % (kind, key))
    if os.path.exists(cached):
        with open(cached) as f:
            return json.load(f)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "genhdr"))
    for name in os.listdir(genhdr):  # a snapshot: build/mp32 may be rebuilt meanwhile
        if name.endswith(".h"):
            shutil.copy2(os.path.join(genhdr, name), os.path.join(work, "genhdr", name))
    _, mpys = freeze(kind, tree, work)
    proc = subprocess.run(compile_cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError("compiling frozen_content.c failed:\n" + proc.stderr[-3000:])
    text, data = object_sizes(os.path.join(work, "frozen_content.o"))
    result = {"kind": kind, "bytes": text + data, "text": text, "data": data,
              "modules": len(mpys), "mpy_bytes": sum(os.path.getsize(p) for p in mpys),
              "method": METHOD_C}
    for old in os.listdir(OUT):  # one cached result per kind
        if old.startswith(kind + "-") and old.endswith(".json"):
            os.remove(os.path.join(OUT, old))
    with open(cached + ".tmp", "w") as f:
        json.dump(result, f)
    os.replace(cached + ".tmp", cached)
    return result


def mpy_sum(kind, tree, reason):
    """The fallback without a 32-bit C toolchain: the .mpy files' sizes added up (bytecode and
    constants as mpy-cross writes them; a frozen module is about 10 % larger in C structures)."""
    work = os.path.join(OUT, "work-" + kind + "-mpy")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    mpy_cross = os.path.join(tree, "mpy-cross", "build", "mpy-cross")
    total = modules = 0
    for rel in devicefiles.frozen(sim=False):
        target = os.path.join(work, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        src_name = rel[4:] if rel.startswith("lib/") else rel
        subprocess.run([mpy_cross, "-march=xtensawin", "-o", target, "-s", src_name, rel],
                       cwd=ROOT, check=True)
        total += os.path.getsize(target)
        modules += 1
    return {"kind": kind, "bytes": total, "text": None, "data": None, "modules": modules,
            "mpy_bytes": total,
            "method": "sum of the .mpy files (no frozen_content.o: %s)" % reason}


def frozen_app_bytes(micropy_dir=None):
    """Bytes (text + data, 32-bit) the ESP32 manifest's application part adds to an image."""
    return measure("app", micropy_dir)["bytes"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--micropy-dir", default=os.environ.get("MICROPY_DIR") or None)
    ap.add_argument("--json", action="store_true", help="print the measurement as JSON")
    args = ap.parse_args()
    try:
        result = measure("app", args.micropy_dir)
    except Unavailable as e:
        print("frozen-size: unavailable: %s" % e)
        return 2
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print("frozen-size: FAILED: %s" % e)
        return 1
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    detail = ("text %d + data %d, " % (result["text"], result["data"])
              if result["text"] is not None else "")
    print("frozen application: %d bytes (%.1f KiB; %s%d modules, %d bytes as .mpy) by %s" % (
        result["bytes"], result["bytes"] / 1024, detail, result["modules"], result["mpy_bytes"],
        result["method"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
