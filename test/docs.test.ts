/**
 * The README and docs/ against the tree: size, links, the layout and "where to change what" tables,
 * and the commands table. A renamed file or script fails here, not in a newcomer's first hour.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
const DOCS = readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md"));
const SCRIPTS = Object.keys(JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts);

/** The rows of the Markdown table under a `## heading`. */
function tableUnder(markdown: string, heading: string): string[][] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`README.md has no "## ${heading}" section`);
  return section
    .split("\n")
    .filter((line) => line.startsWith("|") && !/^\|\s*-/.test(line))
    .slice(1)
    .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
}

/** Backticked repository paths in a cell: `lib/seed/`, `index.ts`, `Dockerfile` (templates such as `Pulumi.<stack>.yaml` are skipped). */
function pathsIn(cell: string): string[] {
  return [...cell.matchAll(/`([^`\s]+)`/g)]
    .map((m) => m[1])
    .filter((p) => /^[\w.-]+(\/[\w.*-]*)*$/.test(p) && (p.includes("/") || /\.\w+$/.test(p) || p === "Dockerfile") && !p.includes("*"));
}

function markdownLinks(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  return [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((href) => !/^[a-z]+:/.test(href));
}

describe("README.md", () => {
  it("is short enough to read on the first day (≤ 12 KB)", () => {
    expect(Buffer.byteLength(README)).toBeLessThanOrEqual(12 * 1024);
  });

  it("shows exactly the two set-up commands: the main job and the tests", () => {
    const block = README.split(/^## /m).find((s) => s.startsWith("The two commands"))!;
    const commands = block.match(/```sh\n([\s\S]*?)```/)![1].trim().split("\n");
    expect(commands.map((c) => c.replace(/\s+#.*$/, "").trim())).toEqual(["npm install && npm run dev", "npm test"]);
  });

  it.each([["Layout"], ["Where to change what"]])("%s: every path it names exists (from the root, or inside the row's folder)", (heading) => {
    const missing = tableUnder(README, heading).flatMap((row) => {
      const folders = row.flatMap(pathsIn).filter((p) => p.endsWith("/"));
      return row.flatMap(pathsIn).filter((p) => ![".", ...folders].some((base) => existsSync(path.join(ROOT, base, p))));
    });
    expect(missing).toEqual([]);
  });

  it("Layout: every top-level folder and file that git tracks is named", () => {
    const named = new Set(tableUnder(README, "Layout").flatMap((row) => pathsIn(row[0]).map((p) => p.split("/")[0])));
    const topLevel = new Set(execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" }).split("\n").map((f) => f.split("/")[0]));
    const obvious = (f: string) => f === "" || f.startsWith(".") || /^(README\.md|package(-lock)?\.json|tsconfig.*\.json|vitest.*\.mts|Pulumi\..*\.yaml)$/.test(f);
    expect([...topLevel].filter((f) => !obvious(f) && !named.has(f))).toEqual([]);
  });

  it("Everyday commands: every npm script it shows exists", () => {
    const shown = tableUnder(README, "Everyday commands").flatMap((row) => [...row[0].matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]));
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.filter((s) => !SCRIPTS.includes(s))).toEqual([]);
  });

  it("links every docs/ file", () => {
    const linked = new Set(markdownLinks("README.md"));
    expect(DOCS.filter((doc) => !linked.has(`docs/${doc}`))).toEqual([]);
  });
});

describe("docs/", () => {
  it.each(["README.md", ...DOCS.map((d) => `docs/${d}`)])("%s: every relative link resolves", (file) => {
    const broken = markdownLinks(file).filter((href) => !existsSync(path.resolve(ROOT, path.dirname(file), href)));
    expect(broken).toEqual([]);
  });
});
