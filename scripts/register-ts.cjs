/**
 * `node -r ./scripts/register-ts.cjs`: how the npm scripts run TypeScript, the program included.
 * The JavaScript is ts-node's own (transpile-only, tsconfig.json's options), because Pulumi serializes
 * the dynamic providers from it and that output is the one the language host produces and the tests
 * check. What this adds is a cache on disk, keyed by each file's content: ts-node 10 transpiles every
 * file on every run (~20 ms each, ~60 files, plus ~0.2 s to load TypeScript), which is more than a
 * second of every `npm run dev` and `npm run pulumi`; from the cache a run loads neither TypeScript
 * nor ts-node. Node's own source-map support maps stack traces back to the .ts lines.
 * The cache is the machine's (`${TRM_CACHE_DIR:-~/.cache/trm}/ts`, as the project's other caches), so
 * a fresh clone's first run finds the files it shares with other clones: entries hold no clone's path
 * (the source map names the file relative to itself) and go once unused for 30 days.
 */
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const CACHE_DIR = path.join(process.env.TRM_CACHE_DIR || path.join(os.homedir(), ".cache", "trm"), "ts");
const TSCONFIG = path.join(ROOT, "tsconfig.json");
const UNUSED_DAYS = 30;

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
  const key = crypto.createHash("sha256").update(SALT).update("\0").update(path.relative(ROOT, filename)).update("\0").update(source).digest("hex");
  const cached = path.join(CACHE_DIR, `${key}.js`);
  try {
    const output = fs.readFileSync(cached, "utf8");
    touch(cached);
    return output;
  } catch {
    const output = withPortableSourceMap(transpiler().compile(source, filename), filename);
    remember(cached, output);
    return output;
  }
}

const MAP_PREFIX = "//# sourceMappingURL=data:application/json;charset=utf-8;base64,";

/** The inline source map with the file named relative to itself, as Node resolves it: no clone's path. */
function withPortableSourceMap(output, filename) {
  const at = output.lastIndexOf(MAP_PREFIX);
  if (at < 0) return output;
  const map = JSON.parse(Buffer.from(output.slice(at + MAP_PREFIX.length).trim(), "base64").toString("utf8"));
  map.file = path.basename(filename);
  map.sources = [path.basename(filename)];
  return output.slice(0, at) + MAP_PREFIX + Buffer.from(JSON.stringify(map)).toString("base64");
}

/** Best effort: a read-only cache still runs, transpiling each time. */
function remember(cached, output) {
  const partial = `${cached}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    fs.writeFileSync(partial, output);
    fs.renameSync(partial, cached); // atomic: two runs at once never read half a file
    if (Math.random() < 0.05) forgetUnused();
  } catch {
    try {
      fs.rmSync(partial, { force: true });
    } catch {
      // nothing was written
    }
  }
}

/** A used entry's age restarts, at most once a day (one utimes call per file and day). */
function touch(cached) {
  try {
    const now = Date.now();
    if (now - fs.statSync(cached).mtimeMs > 86_400_000) fs.utimesSync(cached, now / 1000, now / 1000);
  } catch {
    // read-only: it ages out and is written again
  }
}

function forgetUnused() {
  const before = Date.now() - UNUSED_DAYS * 86_400_000;
  for (const name of fs.readdirSync(CACHE_DIR)) {
    const file = path.join(CACHE_DIR, name);
    try {
      if (fs.statSync(file).mtimeMs < before) fs.rmSync(file, { force: true });
    } catch {
      // gone meanwhile
    }
  }
}

process.setSourceMapsEnabled(true);
require.extensions[".ts"] = function loadTypeScript(module, filename) {
  if (filename.includes(`${path.sep}node_modules${path.sep}`)) throw new Error(`${filename}: TypeScript inside node_modules is not loaded by scripts/register-ts.cjs`);
  module._compile(transpiled(fs.readFileSync(filename, "utf8"), filename), filename);
};
