/**
 * A throwaway copy of this checkout's working tree (tracked and new files, as actions/checkout would
 * leave them plus local edits), with node_modules linked: the e2e suites and tools/job-container.ts
 * run the project there, so its config files, state and build output never touch the working tree.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "..");

export function projectCopy(prefix = "trm-e2e-project-"): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8" }).trim().split("\n");
  // a tracked file deleted in the working tree is listed too: the copy is of the working tree
  for (const file of files.filter((f) => existsSync(path.join(REPO_ROOT, f)))) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(path.join(REPO_ROOT, file), path.join(dir, file));
  }
  symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}
