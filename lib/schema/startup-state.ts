/**
 * What the schema step keeps in the database between boots (trm_startup): the fingerprint shortcut's
 * state (fingerprint.ts) and the drift (drift-record.ts). Nothing here ever fails the step: a state it
 * cannot read means "compare with Directus"; one it cannot write is noted in the log.
 */
import { newClient } from "../db/client";
import { readDbSettings } from "../db/settings";
import type { DriftItem } from "./drift";
import { readDrift, recordDrift } from "./drift-record";
import { directusVersions, shortcutBlockers } from "./directus-env";
import { readRecordedState, readSchemaFingerprint, recordState, targetKey, unchangedSinceRecorded } from "./fingerprint";
import type { Snapshot } from "./snapshot";

export interface StartupStateOptions {
  directusDir: string;
  allowDeletions: boolean;
  log: (line: string) => void;
}

export class StartupState {
  private key?: string;

  constructor(
    private readonly options: StartupStateOptions,
    private readonly env: NodeJS.ProcessEnv,
    target: Snapshot,
    sqlOwned: string[],
  ) {
    const blockers = shortcutBlockers(env, options.directusDir);
    if (blockers.length > 0) {
      this.note(`comparing with Directus every boot: ${blockers.join("; ")}`);
      return;
    }
    try {
      const key = targetKey({ target, sqlOwnedTables: sqlOwned, directusVersions: directusVersions(options.directusDir), env });
      // Allowing deletions must reach Directus even when nothing else changed (recorded drift goes then).
      this.key = options.allowDeletions ? `${key}+allow-deletions` : key;
    } catch (error) {
      this.note(`no shortcut: ${(error as Error).message}`);
    }
  }

  /** True when neither the snapshot nor the database schema changed since the last comparison that settled. */
  async nothingChanged(): Promise<boolean> {
    const key = this.key;
    if (key === undefined) return false;
    return (await this.withClient((client) => unchangedSinceRecorded(client, key))) ?? false;
  }

  /** True when the last settled comparison was with this very snapshot: any difference now came from the database side. */
  async snapshotUnchanged(): Promise<boolean> {
    const key = this.key;
    if (key === undefined) return false;
    return (await this.withClient(async (client) => (await readRecordedState(client))?.targetKey === key)) ?? false;
  }

  /** After a comparison that found nothing (more) to do: what it was made with. */
  async record(): Promise<void> {
    const key = this.key;
    if (key === undefined) return;
    await this.withClient(async (client) => {
      const fingerprint = await readSchemaFingerprint(client);
      if (fingerprint !== null) await recordState(client, { targetKey: key, fingerprint });
    });
  }

  async recordDrift(items: DriftItem[]): Promise<void> {
    await this.withClient((client) => recordDrift(client, items));
  }

  /** The drift the last full comparison recorded (the shortcut's boots repeat it). */
  async recordedDrift(): Promise<DriftItem[]> {
    return (await this.withClient(async (client) => (await readDrift(client))?.items)) ?? [];
  }

  private async withClient<T>(use: (client: ReturnType<typeof newClient>) => Promise<T>): Promise<T | undefined> {
    const client = newClient(readDbSettings(this.env), "trm-schema-state");
    try {
      await client.connect();
      return await use(client);
    } catch (error) {
      this.note(`startup state not read or written this time: ${(error as Error).message}`);
      return undefined;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private note(line: string): void {
    this.options.log(`schema: (${line})`);
  }
}
