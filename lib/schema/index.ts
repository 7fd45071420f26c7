/**
 * Schema tooling: plain modules (no Pulumi), bundle-able by esbuild into one CJS file.
 * Dependencies: yaml, zod, pg, @directus/sdk and Node built-ins only.
 */
export { applySchema, DirectusCliError, errorLines, SCHEMA_APPLY_MODES } from "./directus-cli";
export type { ApplySchemaOptions, ApplySchemaResult, ApplySchemaStatus, SchemaApplyMode } from "./directus-cli";
export {
  ALLOW_DELETIONS_HINT,
  assertDeletionsAllowed,
  deletionLines,
  describePlan,
  DestructiveSchemaChangeError,
  planSchemaApply,
} from "./plan";
export type { PlanOptions, SchemaChanges, SchemaPlan } from "./plan";
export { applySchemaRest, captureSnapshot, connectDirectus, describeDirectusDiff, diffSchema } from "./rest";
export type { CapturedSnapshot, DirectusConnection, RestApplyOptions, RestDiff, SchemaClient } from "./rest";
export { bootstrapIfNeeded, missingMigrations, shippedMigrationVersions, whyBootstrap } from "./directus-install";
export type { BootstrapOptions } from "./directus-install";
export { readRecordedState, readSchemaFingerprint, recordState, STATE_TABLE, targetKey, unchangedSinceRecorded } from "./fingerprint";
export type { RecordedState, TargetKeyInputs } from "./fingerprint";
export { readAllowDeletions, readApplyMode, readBoolean, readDirectusConnection } from "./settings";
export { InvalidSnapshotError, normalizeSnapshot, parseSnapshot, serializeSnapshot, validateSnapshot } from "./snapshot";
export type { Snapshot, SnapshotCollection, SnapshotField, SnapshotRelation } from "./snapshot";
export { findSqlOwnedTables, MIGRATIONS_GUARD_TABLE, stripSqlOwned, tablesCreatedBy } from "./strip";
export type { StripResult, Stripped } from "./strip";
export { captureFromDatabase } from "./capture";
export type { DatabaseCaptureOptions } from "./capture";
export { ALLOW_ONCE_HINT, CAPTURE_HINT, driftLines, holdBackDestructive, revertedEdits } from "./drift";
export type { DriftItem, DriftKind, DriftStatus, HeldBack } from "./drift";
export { describeRecordedDrift, DRIFT_TABLE, readDrift, recordDrift } from "./drift-record";
export type { RecordedDrift } from "./drift-record";
export { readSchemaModel, SCHEMA_SNAPSHOT } from "./model";
export type { SchemaModel } from "./model";
