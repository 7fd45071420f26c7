/**
 * The team's settings reach every clone. The tracked Pulumi.<stack>.yaml holds them; Pulumi reads the
 * clone's own stack file (Pulumi.yaml `stackConfigDir`), which also holds the clone's secrets. Each
 * run copies the team's values into the clone's file and records what it copied beside it
 * (team-settings.<stack>.json): a clone value equal to the record came from the team and follows the
 * team's changes; a different one the clone set itself, and it stays.
 */
import type { Stack } from "@pulumi/pulumi/automation";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { SECRET_KEYS, validateStackConfig } from "../../lib/stack-config";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
/** Pulumi.yaml's `name`: the prefix of every config key. */
export const PROJECT = "trm-directus";

/** The `config` section of a stack file; a malformed file stops with the YAML error and the file's name. */
export function readConfigSection(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  try {
    return (parse(readFileSync(file, "utf8"))?.config ?? {}) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${path.relative(process.cwd(), file) || file} is not valid YAML: ${(error as Error).message}`);
  }
}

/** The team's settings for a stack: the `config` section of the tracked Pulumi.<stack>.yaml (keys with the project prefix). */
export function teamConfig(stackName: string, workDir = REPO_ROOT): Record<string, unknown> {
  return readConfigSection(teamFile(workDir, stackName));
}

export const teamFile = (workDir: string, stackName: string): string => path.join(workDir, `Pulumi.${stackName}.yaml`);

/** Config keys of this project without their `trm-directus:` prefix (other projects' keys left out), values as text. */
export function withoutProjectPrefix(config: Record<string, unknown>): Record<string, string> {
  const prefix = `${PROJECT}:`;
  return Object.fromEntries(Object.entries(config).filter(([key]) => key.startsWith(prefix)).map(([key, value]) => [key.slice(prefix.length), String(value)]));
}

/** Where Pulumi keeps this clone's stack files (Pulumi.yaml `stackConfigDir`). */
export function stackConfigFile(workDir: string, stackName: string): string {
  const project = parse(readFileSync(path.join(workDir, "Pulumi.yaml"), "utf8")) as { stackConfigDir?: string };
  return path.join(workDir, project.stackConfigDir ?? ".", `Pulumi.${stackName}.yaml`);
}

/** The record of what was copied from the team's file, beside the clone's stack file. */
export const copiedRecordFile = (workDir: string, stackName: string): string =>
  path.join(path.dirname(stackConfigFile(workDir, stackName)), `team-settings.${stackName}.json`);

export interface TeamSettingsPlan {
  /** Values to write into the clone's stack file. */
  set: Record<string, string>;
  /** Keys to remove from it (the team dropped them and the clone had the team's value). */
  remove: string[];
  /** The record after this run: key -> the team's value last copied or seen. */
  copied: Record<string, string>;
  /** One line per setting that changed, or that the team changed and the clone keeps its own. */
  lines: string[];
}

/**
 * What the clone's stack file gets from the team's (all plain values, full keys). `copied` is the
 * record of the last run, undefined for a clone that has none yet (then a value that differs from
 * the team's counts as the clone's own: it was never recorded as copied).
 */
export function planTeamSettings(
  team: Record<string, string>,
  own: Record<string, string>,
  copied: Record<string, string> | undefined,
  names: { teamFile: string; stack: string },
): TeamSettingsPlan {
  const plan: TeamSettingsPlan = { set: {}, remove: [], copied: {}, lines: [] };
  const short = (key: string) => key.replace(`${PROJECT}:`, "");
  const keepsOwn = (key: string, value: string) =>
    `${short(key)}: ${names.teamFile} has ${value}; this clone keeps its own ${own[key]} ` +
    `(\`npm run pulumi -- config rm ${short(key)} --stack ${names.stack}\` takes the team's)`;
  for (const [key, value] of Object.entries(team)) {
    plan.copied[key] = value;
    const recorded = copied?.[key];
    if (!(key in own)) {
      plan.set[key] = value;
      plan.lines.push(`${short(key)}: ${value} (from ${names.teamFile})`);
    } else if (own[key] === value || recorded === value) {
      continue; // the clone has the team's value, or keeps its own against an unchanged team value
    } else if (recorded !== undefined && own[key] === recorded) {
      plan.set[key] = value;
      plan.lines.push(`${short(key)}: ${own[key]} -> ${value} (changed in ${names.teamFile})`);
    } else {
      plan.lines.push(keepsOwn(key, value));
    }
  }
  for (const [key, value] of Object.entries(copied ?? {})) {
    if (key in team || own[key] !== value) continue;
    plan.remove.push(key);
    plan.lines.push(`${short(key)}: removed (no longer in ${names.teamFile}; the default applies)`);
  }
  return plan;
}

/**
 * Brings the team's settings into the clone's stack file (see planTeamSettings), after checking the
 * team's file: a bad value there stops here naming the file and the key, and nothing is changed.
 */
export async function syncTeamSettings(stack: Stack, workDir: string, log: (line: string) => void): Promise<TeamSettingsPlan> {
  const file = teamFile(workDir, stack.name);
  const team = plainValues(readConfigSection(file));
  validateTeamSettings(stack.name, path.basename(file), team);
  const own = plainValues(readConfigSection(stackConfigFile(workDir, stack.name)));
  const recordFile = copiedRecordFile(workDir, stack.name);
  const copied = existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, "utf8")).copied as Record<string, string>) : undefined;
  const plan = planTeamSettings(team, own, copied, { teamFile: path.basename(file), stack: stack.name });
  if (Object.keys(plan.set).length > 0) await stack.setAllConfig(Object.fromEntries(Object.entries(plan.set).map(([key, value]) => [key, { value }])));
  if (plan.remove.length > 0) await stack.removeAllConfig(plan.remove);
  if (JSON.stringify(plan.copied) !== JSON.stringify(copied)) {
    mkdirSync(path.dirname(recordFile), { recursive: true });
    writeFileSync(recordFile, JSON.stringify({ about: RECORD_ABOUT, copied: plan.copied }, null, 2) + "\n");
  }
  for (const line of plan.lines) log(`team setting ${line}`);
  return plan;
}

const RECORD_ABOUT =
  "The team's values (tracked Pulumi.<stack>.yaml) last copied into this clone's stack file by the npm scripts: a clone value equal to its record follows the team; another one is the clone's own.";

/** Plain (non-secure, non-nested) values as text, full keys. */
function plainValues(config: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).filter(([, v]) => typeof v !== "object" || v === null).map(([k, v]) => [k, String(v)]));
}

/**
 * The team's values through the program's validation, so a bad one is named with its file; what the
 * team's file need not hold (the clone's secrets, a required key a clone sets itself) stands in.
 */
export function validateTeamSettings(stackName: string, fileName: string, team: Record<string, string>): void {
  const standIns = { adminEmail: "admin@example.com", ...Object.fromEntries(SECRET_KEYS.map((key) => [key, `Tt1${randomBytes(24).toString("hex")}`])) };
  try {
    validateStackConfig(stackName, { ...standIns, ...withoutProjectPrefix(team) });
  } catch (error) {
    const problems = ((error as { problems?: string[] }).problems ?? [(error as Error).message]).map((p) => `- ${p}`);
    throw new Error(
      [`${fileName} (the team's settings for stack ${stackName}) has a bad value; nothing was changed:`, ...problems, `Fix it in ${fileName} (tracked: the fix is for everyone), then run this again.`].join("\n"),
    );
  }
}
