// run.mjs — runs the device tests (tests/device/test_*.py) under real MicroPython, WebAssembly port.
/**
 * Usage, from anywhere in the repo (after `npm ci`):
 *
 *   node tools/mptest/run.mjs                          # every tests/device/test_*.py
 *   node tools/mptest/run.mjs test_devtest             # one module (test_x, test_x.py or a path)
 *   node tools/mptest/run.mjs tests/device/test_devtest.py::test_raises
 *   node tools/mptest/run.mjs -k tempdir               # tests whose "file.py::name" contains it
 *   options: --heap BYTES[k|m] (initial GC heap, default 4m), --timeout SECONDS (whole run,
 *            default 300), --test-timeout SECONDS (each async test, default 30)
 *
 * The board gets repo firmware/ -> /firmware, lib/ -> /lib, tests/device/ -> /tests and
 * sys.path ['/tests', '/', '.frozen', '/lib']; tools/mptest/runner.py then runs the tests.
 * Exit status: 0 only if at least one test passed and none failed; 1 on test failures,
 * 2 on a usage error, a crash or the whole-run time-out.
 *
 * MicroPython runs in a worker thread so that the time-out also ends a test stuck in a
 * CPU-bound loop, which would block this thread's timers.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { loadBoard, runAsync } from "./mpwasm.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const USAGE = "usage: node tools/mptest/run.mjs [-k SUBSTRING] [--heap BYTES[k|m]] [--timeout S] [--test-timeout S] [module ...]";

function parseArgs(argv) {
  const opts = { keyword: "", modules: [], heap: 4 * 1024 * 1024, timeout: 300, testTimeout: 30 };
  const size = (text) => {
    const m = /^(\d+)([kKmM]?)$/.exec(text || "");
    if (!m) throw new Error("bad size: " + text);
    return Number(m[1]) * { "": 1, k: 1024, m: 1024 * 1024 }[m[2].toLowerCase()];
  };
  const seconds = (text) => {
    const n = Number(text);
    if (!(n > 0)) throw new Error("bad number of seconds: " + text);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") throw new Error(USAGE);
    else if (arg === "-k") opts.keyword = argv[++i] ?? "";
    else if (arg === "--heap") opts.heap = size(argv[++i]);
    else if (arg === "--timeout") opts.timeout = seconds(argv[++i]);
    else if (arg === "--test-timeout") opts.testTimeout = seconds(argv[++i]);
    else if (arg.startsWith("-")) throw new Error("unknown option " + arg + "\n" + USAGE);
    else opts.modules.push(arg);
  }
  return opts;
}

// Main thread: start the worker, relay its output, enforce the whole-run time limit.
function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  let current = null; // the test running now, reported by runner.py, named if the run hangs
  let status = null;
  const worker = new Worker(new URL(import.meta.url), { workerData: opts });
  const timer = setTimeout(() => {
    console.log(`micropython-wasm: TIMEOUT, the run took over ${opts.timeout} s` + (current ? `; stuck in ${current}` : ""));
    status = 2;
    worker.terminate();
  }, opts.timeout * 1000);
  worker.on("message", (msg) => {
    if ("out" in msg) process.stdout.write(msg.out + "\n");
    else if ("err" in msg) process.stderr.write(msg.err + "\n");
    else if ("current" in msg) current = msg.current;
    else if ("status" in msg) {
      status = msg.status;
      worker.terminate(); // tasks a test left behind may keep MicroPython's loop alive forever
    }
  });
  worker.on("error", (e) => {
    console.log("micropython-wasm: runner crashed: " + (e && e.stack ? e.stack : e));
    status ??= 2;
  });
  worker.on("exit", () => {
    clearTimeout(timer);
    if (status === null) {
      // The event loop went idle with runner.main() still waiting: nothing can wake it up.
      console.log("micropython-wasm: MicroPython went idle before the runner finished" + (current ? `; last test ${current}` : ""));
      status = 2;
    }
    process.exitCode = status;
  });
}

// Worker thread: load the board and run runner.py; output goes through the parent in order.
async function work(opts) {
  const send = (msg) => parentPort.postMessage(msg);
  const board = await loadBoard({
    heapsize: opts.heap,
    dirs: {
      "/firmware": path.join(ROOT, "firmware"),
      "/lib": path.join(ROOT, "lib"),
      "/tests": path.join(ROOT, "tests", "device"),
    },
    sysPath: ["/tests", "/", ".frozen", "/lib"],
    stdout: (line) => send({ out: line }),
    stderr: (line) => send({ err: line }),
  });
  board.FS.mkdir("/mptest");
  board.FS.writeFile("/mptest/runner.py", fs.readFileSync(path.join(HERE, "runner.py")));
  board.registerJsModule("mptest_host", { current: (name) => send({ current: name }) });
  // JSON strings and lists of strings are valid Python literals.
  const call =
    `runner.main(tests_dir="/tests", modules=${JSON.stringify(opts.modules)}, ` +
    `keyword=${JSON.stringify(opts.keyword)}, timeout_ms=${Math.round(opts.testTimeout * 1000)})`;
  try {
    const status = await runAsync(board, call, { setup: "sys.path.append('/mptest')\nimport runner" });
    send({ status });
  } catch (e) {
    send({ out: "micropython-wasm: runner error:\n" + e.message });
    send({ status: 2 });
  }
}

if (isMainThread) main();
else work(workerData);
