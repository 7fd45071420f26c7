/**
 * Schema snapshot / diff / apply against a running Directus through its REST API (@directus/sdk),
 * with the same SQL-owned stripping and destructive guard as the CLI adapter.
 */
import {
  schemaApply,
  schemaDiff,
  schemaSnapshot,
  type RestClient,
  type SchemaDiffOutput,
  type SchemaSnapshotOutput,
} from "@directus/sdk";
import { connectDirectus as connectToDirectus, type DirectusCredentials } from "../directus-client";
import { ALLOW_DELETIONS_HINT, assertDeletionsAllowed, deletionLines, describePlan, planSchemaApply, type SchemaPlan } from "./plan";
import { normalizeSnapshot, validateSnapshot, type Snapshot } from "./snapshot";
import { describeDirectusDiff, type DiffEntry } from "./describe-diff";
import { stripSqlOwned, type Stripped } from "./strip";

export { describeDirectusDiff };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the schema endpoints are untyped
export type SchemaClient = RestClient<any>;

export type DirectusConnection = { url: string } & DirectusCredentials;

/** A REST client logged in with a static token or with email + password. */
export async function connectDirectus({ url, ...credentials }: DirectusConnection): Promise<SchemaClient> {
  return connectToDirectus(url, credentials);
}

export interface CapturedSnapshot {
  /** Stripped and in canonical order: what snapshots/schema.yaml holds. */
  snapshot: Snapshot;
  stripped: Stripped;
}

/** GET /schema/snapshot, minus SQL-owned tables. */
export async function captureSnapshot(client: SchemaClient, sqlOwnedTables: Iterable<string> = []): Promise<CapturedSnapshot> {
  const raw = validateSnapshot(await client.request(schemaSnapshot()), "GET /schema/snapshot");
  const { snapshot, stripped } = stripSqlOwned(raw, sqlOwnedTables);
  return { snapshot: normalizeSnapshot(snapshot), stripped };
}

export interface RestDiff {
  plan: SchemaPlan;
  /** Directus's own diff of the stripped target (null: nothing to do), SQL-owned entries removed. */
  diff: SchemaDiffOutput | null;
  /** Human-readable, one change per line. */
  lines: string[];
}

/** What applying `target` would change (POST /schema/diff), SQL-owned tables left out on both sides. */
export async function diffSchema(client: SchemaClient, target: Snapshot, sqlOwnedTables: Iterable<string> = []): Promise<RestDiff> {
  const owned = [...sqlOwnedTables];
  const raw = validateSnapshot(await client.request(schemaSnapshot()), "GET /schema/snapshot");
  const current = stripSqlOwned(raw, owned);
  const stripped = stripSqlOwned(target, owned).snapshot;
  const plan = planSchemaApply(current.snapshot, stripped);
  const response = await client.request(schemaDiff(stripped as SchemaSnapshotOutput));
  const diff = response ? withoutCollections(response, current.stripped.collections) : null;
  const lines = diff ? describeDirectusDiff(diff.diff) : [];
  return { plan, diff, lines: lines.length > 0 ? lines : ["no changes"] };
}

export interface RestApplyOptions {
  allowDeletions: boolean;
  dryRun?: boolean;
  sqlOwnedTables?: Iterable<string>;
  log: (line: string) => void;
}

/** Prints the diff, refuses deletions unless allowed, then POST /schema/apply. */
export async function applySchemaRest(
  client: SchemaClient,
  target: Snapshot,
  options: RestApplyOptions,
): Promise<{ status: "unchanged" | "planned" | "applied"; plan: SchemaPlan }> {
  const { plan, diff, lines } = await diffSchema(client, target, options.sqlOwnedTables);
  if (!diff) {
    options.log("schema: no changes: the instance already matches the snapshot");
    return { status: "unchanged", plan };
  }
  for (const line of lines) options.log(`schema: | ${line}`);
  for (const line of describePlan(plan)) options.log(`schema: ${line}`);
  if (options.dryRun) {
    if (plan.hasDeletions && !options.allowDeletions) {
      for (const line of deletionLines(plan.delete)) options.log(`schema: WARNING: an apply would be refused: it deletes ${line}`);
    }
    options.log("schema: dry run: nothing applied");
    return { status: "planned", plan };
  }
  assertDeletionsAllowed(plan, options.allowDeletions);
  if (plan.hasDeletions) options.log(`schema: deletions allowed (${ALLOW_DELETIONS_HINT}): ${deletionLines(plan.delete).join("; ")}`);
  await client.request(schemaApply(diff));
  options.log("schema: applied");
  return { status: "applied", plan };
}

/** The response's diff without entries for the given collections (as the CLI's --ignoreRules does). */
function withoutCollections(response: SchemaDiffOutput, collections: string[]): SchemaDiffOutput | null {
  const skip = new Set(collections);
  const diff = Object.fromEntries(
    Object.entries(response.diff).map(([section, entries]) => [
      section,
      Array.isArray(entries) ? (entries as DiffEntry[]).filter((e) => !skip.has(e.collection)) : entries,
    ]),
  );
  const empty = Object.values(diff).every((entries) => !Array.isArray(entries) || entries.length === 0);
  return empty ? null : { hash: response.hash, diff };
}
