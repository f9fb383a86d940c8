// One run of a real program on Node's `node:wasi` (preview1), for run.py. Argument: a JSON spec
// {"wasm", "args", "dirs": [[host, guest]], "stdout"}. The guest's stdout goes to the file
// `stdout`; this process prints the seconds from reading the module to the guest's exit
// (Node's own start-up is left out) and exits with the guest's exit code.
import { readFile } from "node:fs/promises";
import { openSync, closeSync } from "node:fs";
import { basename } from "node:path";
import { performance } from "node:perf_hooks";
import { WASI } from "node:wasi";

const spec = JSON.parse(process.argv[2]);
const start = performance.now();
const stdout = openSync(spec.stdout, "w");
const wasi = new WASI({
  version: "preview1",
  args: [basename(spec.wasm), ...spec.args],
  env: {},
  preopens: Object.fromEntries(spec.dirs.map(([host, guest]) => [guest, host])),
  stdout,
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(spec.wasm));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
const code = wasi.start(instance);
const seconds = (performance.now() - start) / 1000;
closeSync(stdout);
process.stdout.write(`${seconds}\n`);
process.exitCode = code;
