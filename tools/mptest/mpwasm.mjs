// mpwasm.mjs — loads real MicroPython (WebAssembly port) as a "board" with host folders copied into its filesystem.
/**
 * Reusable by the device-test runner (run.mjs) and by benchmarks:
 *
 *   import { loadBoard, runAsync } from "./mpwasm.mjs";
 *   const board = await loadBoard({ dirs: { "/lib": "lib", "/firmware": "firmware" } });
 *   board.runPython("import ticks");                      // synchronous code
 *   const r = await runAsync(board, "mymod.main()");      // await a coroutine from JS
 *
 * `board` is the object returned by loadMicroPython(): FS (emscripten FS), runPython(code),
 * registerJsModule(name, obj), pyimport(name), globals.
 *
 * Port facts that shape this module (1.29.0, PyScript variant):
 *  - runPythonAsync() with top-level awaits that create tasks fails (TopLevelCoro has no 'throw'),
 *    and there is no asyncio.run(): the event loop is driven by JS timers. So runAsync() schedules
 *    the coroutine with asyncio.create_task() and the task reports back through a JS module.
 *  - A Python exception from runPython() is thrown in JS as a PythonError (message = traceback).
 *  - `heapsize` is only the initial GC heap: the heap grows on demand (split heap), so it is not
 *    a memory cap like on the ESP32.
 */
import fs from "node:fs";
import path from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

// Not worth copying to the board: caches, VCS/editor files, and compiled code for another VM.
function defaultFilter(name, isDir) {
  if (name.startsWith(".")) return false;
  if (isDir) return name !== "__pycache__" && name !== "node_modules";
  return !name.endsWith(".pyc") && !name.endsWith(".mpy");
}

/** Copy host folder `hostDir` recursively to `boardDir` in the emscripten FS. */
export function copyTree(FS, hostDir, boardDir, filter = defaultFilter) {
  mkdirs(FS, boardDir);
  for (const entry of fs.readdirSync(hostDir, { withFileTypes: true })) {
    const isDir = entry.isDirectory();
    if (!filter(entry.name, isDir)) continue;
    const src = path.join(hostDir, entry.name);
    const dst = boardDir.replace(/\/$/, "") + "/" + entry.name;
    if (isDir) copyTree(FS, src, dst, filter);
    else if (entry.isFile()) FS.writeFile(dst, fs.readFileSync(src));
  }
}

function mkdirs(FS, dir) {
  let cur = "";
  for (const part of dir.split("/").filter(Boolean)) {
    cur += "/" + part;
    if (!FS.analyzePath(cur).exists) FS.mkdir(cur);
  }
}

/**
 * Load MicroPython and prepare it like a board.
 *  heapsize: initial GC heap in bytes (default 4 MiB); pystack: Python stack in words (port default).
 *  dirs:     { boardPath: hostPath } folders to copy in, e.g. { "/lib": "lib" }.
 *  sysPath:  sys.path to set. The ESP32 has ['', '.frozen', '/lib'] with cwd '/'; '/' is used
 *            instead of '' so a test that chdir()s still imports from the board root.
 *  stdout/stderr: called with one line of output (no newline); default: this process's streams.
 */
export async function loadBoard({
  heapsize = 4 * 1024 * 1024,
  pystack,
  dirs = {},
  sysPath = ["/", ".frozen", "/lib"],
  stdout = (line) => process.stdout.write(line + "\n"),
  stderr = (line) => process.stderr.write(line + "\n"),
} = {}) {
  const options = { heapsize, stdout, stderr };
  if (pystack !== undefined) options.pystack = pystack;
  const board = await loadMicroPython(options);
  for (const [boardPath, hostPath] of Object.entries(dirs)) copyTree(board.FS, hostPath, boardPath);
  board.runPython(
    "import os, sys\n" +
      "os.chdir('/')\n" +
      `sys.path[:] = ${JSON.stringify(sysPath)}\n`,
  );
  return board;
}

let bridgeCount = 0;

/**
 * Run the coroutine that the Python expression `entry` evaluates to (modules it names must be
 * importable; put imports in `setup`) and resolve with its result. Plain results (int, float,
 * str, bool, None) arrive as JS values; others arrive as PyProxy objects.
 * An uncaught Python exception rejects with an Error whose message is the traceback.
 * timeoutMs rejects if the coroutine has not finished by then; it can only fire while
 * MicroPython is idle between steps, a CPU-bound Python loop blocks it (use a Worker to guard that).
 */
export function runAsync(board, entry, { setup = "", timeoutMs = 0 } = {}) {
  const id = ++bridgeCount;
  const bridge = "_mpwasm_bridge_" + id;
  return new Promise((resolve, reject) => {
    let timer;
    const finish = (fn, value) => {
      clearTimeout(timer);
      fn(value);
    };
    board.registerJsModule(bridge, {
      done: (value) => finish(resolve, value),
      fail: (text) => finish(reject, new Error(text)),
    });
    // The wrapper turns every outcome into exactly one call back to JS.
    board.runPython(
      `import asyncio, io, sys, ${bridge}\n` +
        `${setup}\n` +
        `async def _mpwasm_main_${id}():\n` +
        `    try:\n` +
        `        result = await (${entry})\n` +
        `    except BaseException as e:\n` +
        `        buf = io.StringIO()\n` +
        `        sys.print_exception(e, buf)\n` +
        `        ${bridge}.fail(buf.getvalue())\n` +
        `    else:\n` +
        `        ${bridge}.done(result)\n` +
        `asyncio.create_task(_mpwasm_main_${id}())\n`,
    );
    // Armed after runPython() so a syntax error (thrown above, rejecting us) leaves no timer behind.
    if (timeoutMs > 0) {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${entry}`)), timeoutMs);
    }
  });
}
