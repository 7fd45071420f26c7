import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { DbSettings } from "../lib/db/settings";
import { checksumMismatchMessage } from "../lib/migrations/errors";
import { plainError } from "../lib/plain-error";
import { readMigrationFiles } from "../lib/migrations/files";
import { readAppliedMigrations, runMigrations } from "../lib/migrations/runner";
import { DynamicResource, dynamicProvider } from "../lib/dynamic-resource";

export interface SqlMigrationsArgs {
  /** Migration folders relative to `root`, e.g. ["db-init"]. */
  dirs: string[];
  /** The project root (default: the program's working directory). */
  root?: string;
  db: pulumi.Input<{
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    database: string;
    user: string;
    password: pulumi.Input<string>;
  }>;
}

interface MigrationInputs {
  dirs: string[];
  /** Absolute; not part of the diff, so moving the checkout changes nothing. */
  root: string;
  db: DbSettings;
  /** filename → sha256 of the files on disk when the program ran. */
  files: Record<string, string>;
}

interface MigrationOutputs extends MigrationInputs {
  /** Files this resource's last run applied (the rest were already there). */
  applied: string[];
}

/** A refresh should fail soon when the database is not there, not wait as long as a first boot. */
const READ_TIMEOUT_SECONDS = 10;

/**
 * Migrations through the project's runner (lib/migrations), as a dynamic resource. The inputs carry
 * each file's checksum, so a preview lists new files by name (`pulumi preview --diff`) and an edited
 * applied file fails the preview, before anything runs. Deleting is a no-op: migrations are not
 * reversible, the data volume decides what stays.
 */
export const sqlMigrationsProvider = dynamicProvider<MigrationInputs, MigrationOutputs>({
  async diff(_id, olds, news) {
    const edited = Object.entries(news.files)
      .filter(([file, checksum]) => file in olds.files && olds.files[file] !== checksum)
      .map(([file, checksum]) => ({ filename: file, recorded: olds.files[file], actual: checksum }));
    if (edited.length > 0) throw new Error(checksumMismatchMessage(edited));
    const newFiles = Object.keys(news.files).filter((file) => !(file in olds.files));
    const retargeted = JSON.stringify([olds.db, olds.dirs]) !== JSON.stringify([news.db, news.dirs]);
    return { changes: newFiles.length > 0 || retargeted, replaces: [], deleteBeforeReplace: false };
  },

  /**
   * `pulumi refresh`: which of this resource's files the database's guard table records, with the
   * checksum recorded there. A reset database shows every file gone (the next `up` applies them
   * again); a row whose checksum differs from the file fails the next diff, naming the file.
   */
  async read(id, props) {
    if (!props) throw new Error(`${id}: migrations cannot be imported, only created by the program`);
    const recorded = await readAppliedMigrations(props.db, READ_TIMEOUT_SECONDS).catch((error: unknown) => {
      throw new Error(`cannot read migrations_applied from ${props.db.host}:${props.db.port}: ${plainError(error).message}. ` +
        "Start the stack (npm run dev) and refresh again; the state was left as it was");
    });
    const files = Object.fromEntries(Object.keys(props.files).flatMap((file) => (recorded.has(file) ? [[file, recorded.get(file)!]] : [])));
    const { applied: _applied, ...inputs } = props;
    // Inputs too (the SDK types them as the outputs): `pulumi preview --refresh --diff` then names the files.
    return { id, props: { ...props, files }, inputs: { ...inputs, files } as MigrationOutputs };
  },

  async create(inputs) {
    return { id: `migrations:${inputs.dirs.join(",")}`, outs: await migrate(inputs) };
  },

  async update(_id, _olds, news) {
    return { outs: await migrate(news) };
  },

  async delete() {
    // Nothing to undo.
  },
});

async function migrate(inputs: MigrationInputs): Promise<MigrationOutputs> {
  const dirs = inputs.dirs.map((dir) => path.resolve(inputs.root, dir));
  try {
    const result = await runMigrations({ dirs, db: inputs.db, log: (line) => pulumi.log.info(line) });
    return { ...inputs, applied: result.applied };
  } catch (error) {
    throw plainError(error);
  }
}

export class SqlMigrations extends DynamicResource {
  declare readonly applied: pulumi.Output<string[]>;
  declare readonly files: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: SqlMigrationsArgs, opts?: pulumi.CustomResourceOptions) {
    const root = path.resolve(args.root ?? ".");
    const files = readMigrationFiles(args.dirs.map((dir) => path.resolve(root, dir))).then((list) =>
      Object.fromEntries(list.map((f) => [f.filename, f.checksum])),
    );
    super(
      sqlMigrationsProvider,
      name,
      { dirs: args.dirs, root, db: pulumi.secret(args.db), files, applied: undefined },
      { ...opts, additionalSecretOutputs: ["db"] },
    );
  }
}
