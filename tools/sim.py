#!/usr/bin/env python3
# `make sim`: the bundled central system and the firmware on the host, side by side, live.
"""Start tools/csms.py on the port named in config.json's csms.url, then the firmware through
tools/simrun.py (restarted on every reset), and show both outputs interleaved until Ctrl-C.

    python tools/sim.py [--config config.json] [--micropython]

Drive the simulated EV from another terminal over the control channel, e.g.
`nc 127.0.0.1 7700` then `plug 1`, `swipe 04A2B3C4`, `cp 1 C`, `state`, `help`.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pump(proc, prefix):
    for line in iter(proc.stdout.readline, b""):
        sys.stdout.write(prefix + line.decode(errors="replace"))
        sys.stdout.flush()


def wait_port(host, port, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="config.json")
    ap.add_argument("--micropython", action="store_true", help="run the firmware under MicroPython")
    args = ap.parse_args()
    config_path = os.path.abspath(args.config)
    try:
        with open(config_path) as f:
            cfg = json.load(f)
        url = urlsplit(cfg["csms"]["url"])
        control_port = cfg.get("sim", {}).get("controlPort", 7700)
    except (OSError, ValueError, KeyError) as e:
        sys.exit("sim: cannot use %s: %s" % (config_path, e))
    host, port = url.hostname or "127.0.0.1", url.port or 9000
    env = dict(os.environ, PYTHONUNBUFFERED="1", CP_CONFIG=config_path,
               CP_STATE_DIR=os.environ.get("CP_STATE_DIR", os.path.join(ROOT, "state")))
    csms = subprocess.Popen([sys.executable, "tools/csms.py", "--host", host, "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    procs = [csms]
    threading.Thread(target=pump, args=(csms, "[csms] "), daemon=True).start()
    try:
        if not wait_port(host, port):
            print("sim: the central system did not start on %s:%d" % (host, port))
            return 1
        runner = [sys.executable, "tools/simrun.py"] + (["--micropython"] if args.micropython else [])
        cp = subprocess.Popen(runner, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
        procs.append(cp)
        threading.Thread(target=pump, args=(cp, "[cp]   "), daemon=True).start()
        print("sim: central system on ws://%s:%d, control channel on 127.0.0.1:%d "
              "(try: nc 127.0.0.1 %d, then 'help')" % (host, port, control_port, control_port),
              flush=True)
        return cp.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(main())
