import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { DUMP_SCRIPT, dumpEnv } from "../lib/db/backup";

export interface DatabaseBackupArgs {
  /** Names the dump files: backups/<stack>-<UTC timestamp>.dump. */
  stack: string;
  /** The database container; pg_dump runs inside it, so the host needs no PostgreSQL client. */
  containerName: pulumi.Input<string>;
  databaseName: string;
  user: string;
  password: pulumi.Input<string>;
  /** Folder for the dumps, relative to the project directory (gitignored). */
  dir: string;
}

/**
 * Dumps the database (pg_dump custom format, 0600) before the stack goes away: a `command.local.Command`
 * with only a delete step, so `pulumi destroy` (and `npm run dev:down`/`dev:reset`) runs it while the
 * database container still exists. A failed dump stops the destroy with its reason;
 * `TRM_SKIP_BACKUP=1` skips it for one destroy. Restore with `npm run db:restore -- <file>`.
 */
export class DatabaseBackup extends pulumi.ComponentResource {
  readonly onDestroy: command.local.Command;

  constructor(name: string, args: DatabaseBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("trm:database:DatabaseBackup", name, {}, opts);

    this.onDestroy = new command.local.Command(
      `${name}-on-destroy`,
      {
        delete: DUMP_SCRIPT,
        interpreter: ["/bin/sh", "-c"],
        environment: pulumi.all([args.containerName, args.password]).apply(([container, password]) =>
          pulumi.secret(
            dumpEnv({ dir: args.dir, prefix: args.stack, container, database: args.databaseName, user: args.user, password }),
          ),
        ),
      },
      { parent: this },
    );

    this.registerOutputs({});
  }
}
