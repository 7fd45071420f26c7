/**
 * `node -r ./scripts/register-ts.cjs`: how the npm scripts run TypeScript, the program included.
 * The JavaScript is ts-node's own (transpile-only, tsconfig.json's options), because Pulumi serializes
 * the dynamic providers from it and that output is the one the language host produces and the tests
 * check. What this adds is a cache on disk, keyed by each file's content: ts-node 10 transpiles every
 * file on every run (~20 ms each, ~60 files, plus ~0.2 s to load TypeScript), which is more than a
 * second of every `npm run dev` and `npm run pulumi`; from the cache a run loads neither TypeScript
 * nor ts-node. Node's own source-map support maps stack traces back to the .ts lines.
 * The cache is node_modules/.cache/trm-ts (TRM_TS_CACHE elsewhere); `npm ci` starts it afresh.
 */
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const CACHE_DIR = process.env.TRM_TS_CACHE || path.join(ROOT, "node_modules", ".cache", "trm-ts");
const TSCONFIG = path.join(ROOT, "tsconfig.json");

let tsNode;
/** ts-node, created on the first file the cache lacks. */
function transpiler() {
  tsNode ??= require("ts-node").create({ transpileOnly: true, project: TSCONFIG });
  return tsNode;
}

/** What the output depends on besides the file: the transpiler's versions, the compiler options, the module type. */
const SALT = [
  require("ts-node/package.json").version,
  require("typescript/package.json").version,
  fs.readFileSync(TSCONFIG, "utf8"),
  JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).type ?? "commonjs",
].join("\0");

function transpiled(source, filename) {
  const key = crypto.createHash("sha256").update(SALT).update("\0").update(filename).update("\0").update(source).digest("hex");
  const cached = path.join(CACHE_DIR, `${key}.js`);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    const output = transpiler().compile(source, filename);
    remember(cached, output);
    return output;
  }
}

/** Best effort: a read-only checkout still runs, transpiling each time. */
function remember(cached, output) {
  const partial = `${cached}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    fs.writeFileSync(partial, output);
    fs.renameSync(partial, cached); // atomic: two runs at once never read half a file
  } catch {
    try {
      fs.rmSync(partial, { force: true });
    } catch {
      // nothing was written
    }
  }
}

process.setSourceMapsEnabled(true);
require.extensions[".ts"] = function loadTypeScript(module, filename) {
  if (filename.includes(`${path.sep}node_modules${path.sep}`)) throw new Error(`${filename}: TypeScript inside node_modules is not loaded by scripts/register-ts.cjs`);
  module._compile(transpiled(fs.readFileSync(filename, "utf8"), filename), filename);
};
