/**
 * scripts/register-ts.cjs, the npm scripts' TypeScript loader: ts-node's own output, cached by content.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./support/cli";

const REGISTER = path.join(REPO_ROOT, "scripts", "register-ts.cjs");

/** Runs a file with the loader, its cache under `cacheRoot` (TRM_CACHE_DIR: the entries are in <cacheRoot>/ts). */
function run(file: string, cacheRoot: string) {
  return spawnSync(process.execPath, ["-r", REGISTER, file], { encoding: "utf8", env: { ...process.env, TRM_CACHE_DIR: cacheRoot, NODE_OPTIONS: "" } });
}

describe("scripts/register-ts.cjs", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "trm-register-ts-"));
  const cacheRoot = path.join(dir, "cache");
  const cache = path.join(cacheRoot, "ts");
  const file = path.join(dir, "probe.ts");

  it("runs a TypeScript file, caches ts-node's output for it, and reads it from the cache next time", () => {
    writeFileSync(file, 'import * as path from "node:path";\nconst name: string = path.basename(__filename);\nconsole.log(`hello from ${name}`);\n');
    expect(run(file, cacheRoot).stdout).toBe("hello from probe.ts\n");
    const [entry] = readdirSync(cache);
    expect(readdirSync(cache)).toHaveLength(1);
    // the same JavaScript ts-node's transpile-only mode produces (what Pulumi serializes the providers from)
    const expected = execFileSync(
      process.execPath,
      ["-e", `const s = require("ts-node").create({ transpileOnly: true, project: ${JSON.stringify(path.join(REPO_ROOT, "tsconfig.json"))} }); process.stdout.write(s.compile(require("node:fs").readFileSync(${JSON.stringify(file)}, "utf8"), ${JSON.stringify(file)}))`],
      { cwd: REPO_ROOT, encoding: "utf8" },
    );
    // ...but for the source map, which names the file relative to itself: the entry holds no clone's path
    const [code, map] = readFileSync(path.join(cache, entry), "utf8").split("//# sourceMappingURL=");
    expect(code).toBe(expected.split("//# sourceMappingURL=")[0]);
    expect(map).not.toContain(Buffer.from(dir).toString("base64").slice(0, 12));
    expect(JSON.parse(Buffer.from(map.split("base64,")[1], "base64").toString())).toMatchObject({ file: "probe.ts", sources: ["probe.ts"] });
    // from the cache: ts-node and TypeScript are not even loaded
    writeFileSync(path.join(dir, "loaded.ts"), `require(${JSON.stringify(file)});\nconsole.log(Object.keys(require.cache).some((m) => /node_modules[\\\\/](ts-node[\\\\/]dist|typescript[\\\\/]lib)[\\\\/]/.test(m)));\n`);
    run(path.join(dir, "loaded.ts"), cacheRoot);
    expect(run(path.join(dir, "loaded.ts"), cacheRoot).stdout).toBe("hello from probe.ts\nfalse\n");
  });

  it("transpiles a changed file again", () => {
    writeFileSync(file, 'console.log("changed");\n');
    expect(run(file, cacheRoot).stdout).toBe("changed\n");
  });

  it("reports errors at the TypeScript file's own lines, transpiled or from the cache", () => {
    // the interface is erased, so the JavaScript's throw is on line 5, the TypeScript's on line 8
    writeFileSync(file, "interface Shape {\n  a: number;\n  b: string;\n  c: boolean;\n}\n\nconst t: Shape = { a: 1, b: \"x\", c: true };\nif (t.a === 1) throw new Error(\"boom\");\n");
    for (const pass of ["transpiled (ts-node loaded)", "from the cache (no ts-node)"]) {
      const result = run(file, cacheRoot);
      expect(result.status, pass).toBe(1);
      expect(result.stderr, pass).toContain(`${file}:8:`);
    }
  });

  it("serves a second clone from the first one's entries, its errors named at its own path", () => {
    const clones = ["one", "two"].map((name) => {
      const root = path.join(dir, name);
      mkdirSync(path.join(root, "scripts"), { recursive: true });
      for (const f of ["tsconfig.json", "package.json", "scripts/register-ts.cjs"]) cpSync(path.join(REPO_ROOT, f), path.join(root, f));
      symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(root, "node_modules"));
      writeFileSync(path.join(root, "scripts", "fails.ts"), 'const where: string = "line 1";\nthrow new Error(`boom after ${where}`);\n');
      return root;
    });
    const shared = path.join(dir, "shared-cache");
    const runIn = (root: string) =>
      spawnSync(process.execPath, ["-r", "./scripts/register-ts.cjs", "scripts/fails.ts"], { cwd: root, encoding: "utf8", env: { ...process.env, TRM_CACHE_DIR: shared, NODE_OPTIONS: "" } });
    expect(runIn(clones[0]).stderr).toContain(`${path.join(clones[0], "scripts", "fails.ts")}:2`);
    expect(readdirSync(path.join(shared, "ts"))).toHaveLength(1);
    expect(runIn(clones[1]).stderr).toContain(`${path.join(clones[1], "scripts", "fails.ts")}:2`);
    expect(readdirSync(path.join(shared, "ts"))).toHaveLength(1); // the same entry
  });

  it("still runs when the cache cannot be written", () => {
    const blocked = path.join(dir, "not-a-dir");
    writeFileSync(blocked, "a file where the cache folder would go");
    writeFileSync(file, 'console.log("no cache");\n');
    const result = run(file, blocked);
    expect(result.stdout).toBe("no cache\n");
    expect(result.status).toBe(0);
  });
});
