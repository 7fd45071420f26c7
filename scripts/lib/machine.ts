/**
 * What a stack needs from the machine besides Node and the Pulumi CLI: a Docker daemon, and the two
 * upstream images (pulled, or on machines without a registry, the local stand-ins of offline/).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { probeProgramHost } from "../../lib/reach";
import { DEFAULT_DATABASE_IMAGE } from "../../lib/stack-config";
import { docker } from "./docker";
import { REPO_ROOT, teamConfig, withoutProjectPrefix } from "./team-settings";

const OFFLINE = path.join(REPO_ROOT, "offline");

/**
 * offline/ sets up this machine's Docker (apt, dockerd, debootstrap): root on Debian, and not inside a
 * container of the daemon it would set up (a CI job container: the daemon and its images are the host's).
 */
let offlineScriptsAllowed: boolean | undefined;
// Decided once per process: in a container, probing asks the Docker daemon (a `docker inspect`).
const canRunOfflineScripts = () =>
  (offlineScriptsAllowed ??= process.getuid?.() === 0 && existsSync("/etc/debian_version") && !probeProgramHost().container);

/** A daemon that answers `docker info`: already running, or (root on Debian) Debian's docker.io started for it. */
export async function ensureDocker(log: (line: string) => void): Promise<"running" | "started"> {
  if (docker(["info"]).ok) return "running";
  if (!canRunOfflineScripts()) {
    throw new Error(
      "no Docker daemon answers `docker info`. Start Docker (Docker Desktop, or `sudo systemctl start docker`), " +
        "make sure this user may use it (the `docker` group), then run this again.",
    );
  }
  log("no Docker daemon: installing/starting Debian's docker.io (offline/docker-engine.sh)");
  await runScript(path.join(OFFLINE, "docker-engine.sh"));
  return "started";
}

/** The upstream images a stack runs: its database image (Pulumi.<stack>.yaml, else the default) and our Dockerfile's FROM. */
export function stackImages(stackName: string, workDir = REPO_ROOT): string[] {
  const config = withoutProjectPrefix(teamConfig(stackName, workDir));
  const dockerfile = path.join(workDir, "Dockerfile");
  const from = /^FROM\s+(\S+)/m.exec(readFileSync(dockerfile, "utf8"));
  if (!from) throw new Error(`${dockerfile}: no FROM line`);
  return [config.databaseImage ?? DEFAULT_DATABASE_IMAGE, from[1]];
}

export type ImageSource = "present" | "pulled" | "stand-in";

/**
 * Each image present locally, pulled, or (when no registry answers) built as a stand-in by
 * offline/standins/build.sh. Stand-ins are rebuilt when their inputs changed (a no-op otherwise).
 */
export async function ensureImages(images: string[], log: (line: string) => void): Promise<Record<string, ImageSource>> {
  const sources: Record<string, ImageSource> = {};
  const missing: string[] = [];
  let standins = false;
  for (const image of images) {
    const label = docker(["image", "inspect", "-f", '{{ index .Config.Labels "org.trm.standin" }}', image]);
    if (label.ok) {
      sources[image] = label.stdout === "true" ? "stand-in" : "present";
      standins ||= label.stdout === "true";
      continue;
    }
    log(`pulling ${image}`);
    const pull = docker(["pull", "--quiet", image]);
    if (pull.ok) sources[image] = "pulled";
    else {
      log(`cannot pull ${image}: ${pull.stderr.split("\n").pop()}`);
      missing.push(image);
    }
  }
  // Stand-ins are checked against their inputs where they are built; a job container uses them as they are.
  const canBuild = canRunOfflineScripts();
  if (missing.length === 0 && (!standins || !canBuild)) return sources;
  if (!canBuild) {
    throw new Error(`cannot pull ${missing.join(", ")}: check the registry connection and run \`docker pull\` for each, then run this again`);
  }
  log(
    "!! STAND-IN IMAGES: no registry here, so offline/standins/build.sh builds local stand-ins under the real names " +
      "(Debian PostgreSQL 15 + PostGIS with a SQL-only TimescaleDB TEST DOUBLE; Directus 11.17.4 from npm). Not the upstream images: see offline/README.md.",
  );
  await runScript(path.join(OFFLINE, "standins", "build.sh"));
  for (const image of images) if (sources[image] !== "present" && sources[image] !== "pulled") sources[image] = "stand-in";
  return sources;
}

/** Runs a script with its output on ours (stderr dropped when quiet); resolves with the last line it printed on stdout. */
export function runScript(script: string, options: { captureStdout?: boolean; args?: string[]; quiet?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdio = ["ignore", options.captureStdout ? "pipe" : "inherit", options.quiet ? "ignore" : "inherit"] as const;
    const child = spawn("bash", [script, ...(options.args ?? [])], { stdio: [...stdio] });
    let stdout = "";
    child.stdout?.on("data", (chunk) => (stdout += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(stdout.trim().split("\n").pop() ?? "");
      else reject(new Error(`${path.relative(REPO_ROOT, script)} failed (exit ${code}): see its output above`));
    });
  });
}
