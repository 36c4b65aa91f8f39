// Runs a benchmark script under MicroPython's WebAssembly port (32-bit, like the ESP32).
// Usage: node tools/bench/run_wasm.mjs tools/bench/ocpp_bench.py
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadBoard } from "../mptest/mpwasm.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const script = process.argv[2];
const board = await loadBoard({
  dirs: { "/lib": path.join(root, "lib"), "/bench": path.join(root, "tools", "bench") },
});
board.runPython("import sys; sys.path.append('/bench'); exec(open('/bench/" + path.basename(script) + "').read())");
