import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbEnv, type DbSettings } from "../lib/db/settings";
import { inspectMigrations, runMigrations } from "../lib/migrations/runner";
import { readMigrationFiles } from "../lib/migrations/files";
import { sqlMigrationsProvider } from "../components/sql-migrations";
import { REPO_ROOT, runTsScript } from "./support/cli";
import { migrationDir } from "./support/migration-dirs";
import { freePort } from "../lib/free-port";
import { startPostgres, type TestPostgres } from "../tools/harness/postgres";

const DB_INIT = path.join(REPO_ROOT, "db-init");

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

async function recorded(db: DbSettings): Promise<string[]> {
  const rows = await pg.query<{ filename: string }>(db, "SELECT filename FROM migrations_applied ORDER BY filename");
  return rows.map((r) => r.filename);
}

async function tableExists(db: DbSettings, table: string): Promise<boolean> {
  const [row] = await pg.query<{ t: string | null }>(db, "SELECT to_regclass($1)::text AS t", [table]);
  return row.t !== null;
}

function dbInit(db: DbSettings, dirs: string[], extraEnv: Record<string, string> = {}) {
  return runTsScript("scripts/db-init.ts", dirs, { ...dbEnv(db), ...extraEnv });
}

describe("db-init runner on PostgreSQL 16", () => {
  it("applies nothing from an empty folder", async () => {
    const db = await pg.createDatabase();
    const result = await runMigrations({ dirs: [await migrationDir({})], db });
    expect(result).toEqual({ applied: [], skipped: [] });
  });

  it("applies the three pre-schema files, then skips them on a re-run", async () => {
    const db = await pg.createDatabase();
    const first = await dbInit(db, [DB_INIT]);
    expect(first.code, first.output).toBe(0);
    expect(first.stdout).toContain("db-init: apply 001_extensions.sql");
    expect(first.stdout).toContain("db-init complete: 3 applied, 0 skipped");
    expect(await recorded(db)).toEqual(["001_extensions.sql", "002_positions_hypertable.sql", "003_faulty_column.sql"]);

    const second = await dbInit(db, [DB_INIT]);
    expect(second.code, second.output).toBe(0);
    expect(second.stdout).toContain("db-init: skip  003_faulty_column.sql");
    expect(second.stdout).toContain("db-init complete: 0 applied, 3 skipped");
  });

  it("stops with exit 2 when an applied file was edited, and changes nothing", async () => {
    const db = await pg.createDatabase();
    const dir = await migrationDir({ "001_a.sql": "CREATE TABLE a (id int);" });
    expect((await dbInit(db, [dir])).code).toBe(0);
    await writeFile(path.join(dir, "001_a.sql"), "CREATE TABLE a (id bigint);");
    await writeFile(path.join(dir, "002_b.sql"), "CREATE TABLE b (id int);");

    const result = await dbInit(db, [dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/checksum mismatch: 001_a\.sql/);
    expect(await recorded(db)).toEqual(["001_a.sql"]);
    expect(await tableExists(db, "b")).toBe(false);
  });

  it("refuses two files with the same numeric prefix with exit 4 before applying anything", async () => {
    const db = await pg.createDatabase();
    const dir = await migrationDir({
      "001_a.sql": "CREATE TABLE a (id int);",
      "002_b.sql": "CREATE TABLE b (id int);",
      "002_c.sql": "CREATE TABLE c (id int);",
    });
    const result = await dbInit(db, [dir]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/duplicate migration prefix: .*002_b\.sql and .*002_c\.sql/);
    expect(await tableExists(db, "a")).toBe(false);
    expect(await tableExists(db, "migrations_applied")).toBe(false);
  });

  it("refuses the same filename in two folders (the guard table keys on the basename)", async () => {
    const db = await pg.createDatabase();
    const one = await migrationDir({ "001_a.sql": "SELECT 1;" });
    const two = await migrationDir({ "001_a.sql": "SELECT 2;" });
    expect((await dbInit(db, [one, two])).code).toBe(4);
  });

  it("stops at broken SQL with exit 3: earlier files kept, nothing of the broken file left behind", async () => {
    const db = await pg.createDatabase();
    const dir = await migrationDir({
      "001_a.sql": "CREATE TABLE a (id int);",
      "002_b.sql": "CREATE TABLE b (id int);\nCREATE INDEX b_idx ON b (id);\nSELECT * FROM no_such_table;\n",
      "003_c.sql": "CREATE TABLE c (id int);",
    });
    const result = await dbInit(db, [dir]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/SQL error in 002_b\.sql:3:15: relation "no_such_table" does not exist/);
    expect(await recorded(db)).toEqual(["001_a.sql"]);
    expect(await tableExists(db, "b")).toBe(false);
    expect(await tableExists(db, "c")).toBe(false);
  });

  it("names every missing DB_* setting with exit 1", async () => {
    const result = await runTsScript("scripts/db-init.ts", [DB_INIT], { DB_HOST: "127.0.0.1", DB_PORT: "5432" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("missing settings: DB_DATABASE, DB_USER, DB_PASSWORD");
  });

  it("gives up on an unreachable database after DB_INIT_TIMEOUT_SECONDS with exit 1", async () => {
    const nothingThere = { ...pg.admin, port: await freePort() };
    const started = Date.now();
    const result = await dbInit(nothingThere, [DB_INIT], { DB_INIT_TIMEOUT_SECONDS: "2" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/database postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres not reachable after 2 s/);
    expect(result.stderr).not.toContain(pg.admin.password);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  });

  it("applies every file exactly once when two runners start at the same moment", async () => {
    const db = await pg.createDatabase();
    const dir = await migrationDir({
      "001_a.sql": "CREATE TABLE a (id int); SELECT pg_sleep(0.3);",
      "002_b.sql": "CREATE TABLE b (id int); SELECT pg_sleep(0.3);",
      "003_c.sql": "CREATE TABLE c (id int);",
    });
    const [one, two] = await Promise.all([dbInit(db, [dir]), dbInit(db, [dir])]);
    expect([one.code, two.code]).toEqual([0, 0]);
    const summaries = [one.stdout, two.stdout].map((out) => /db-init complete: (\d+) applied, (\d+) skipped/.exec(out)!.slice(1));
    expect(summaries.map(([applied]) => Number(applied)).sort()).toEqual([0, 3]);
    expect(await recorded(db)).toEqual(["001_a.sql", "002_b.sql", "003_c.sql"]);
  });

  it("applies a file cleanly on the next run after the connection was killed in the middle of it", async () => {
    const db = await pg.createDatabase();
    const dir = await migrationDir({
      "001_a.sql": "CREATE TABLE a (id int);",
      "002_slow.sql": "CREATE TABLE slow (id int);\nSELECT pg_sleep(1.5);\nINSERT INTO slow VALUES (1);",
    });
    const failure = runMigrations({ dirs: [dir], db }).then(() => new Error("expected the run to fail"), (error: Error) => error);
    await waitUntil(async () => {
      const rows = await pg.query(db, "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(1.5)%' AND pid <> pg_backend_pid()");
      return rows.length > 0;
    });
    await pg.query(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(1.5)%' AND pid <> pg_backend_pid()");
    expect((await failure).message).toMatch(/lost the database connection while applying 002_slow\.sql/);
    expect(await recorded(db)).toEqual(["001_a.sql"]);
    expect(await tableExists(db, "slow")).toBe(false);

    const rerun = await runMigrations({ dirs: [dir], db });
    expect(rerun).toEqual({ applied: ["002_slow.sql"], skipped: ["001_a.sql"] });
    expect(await pg.query(db, "SELECT id FROM slow")).toEqual([{ id: 1 }]);
  });

  it("lists pending files and refuses edited ones without changing anything (inspectMigrations, for previews)", async () => {
    const db = await pg.createDatabase();
    const dir = await migrationDir({ "001_a.sql": "CREATE TABLE a (id int);", "002_b.sql": "CREATE TABLE b (id int);" });
    const fresh = await inspectMigrations({ dirs: [dir], db });
    expect(fresh.pending.map((f) => f.filename)).toEqual(["001_a.sql", "002_b.sql"]);
    expect(await tableExists(db, "migrations_applied")).toBe(false);

    await runMigrations({ dirs: [dir], db });
    await writeFile(path.join(dir, "003_c.sql"), "CREATE TABLE c (id int);");
    const later = await inspectMigrations({ dirs: [dir], db });
    expect(later.pending.map((f) => f.filename)).toEqual(["003_c.sql"]);
    expect(later.applied.map((f) => f.filename)).toEqual(["001_a.sql", "002_b.sql"]);

    await writeFile(path.join(dir, "001_a.sql"), "CREATE TABLE a (id bigint);");
    await expect(inspectMigrations({ dirs: [dir], db })).rejects.toThrow(/checksum mismatch: 001_a\.sql/);
    expect(await tableExists(db, "c")).toBe(false);
  });

  it("picks up a database migrated by the old bash runner (sha256sum checksums) as fully applied", async () => {
    const db = await pg.createDatabase();
    await pg.query(db, "CREATE TABLE migrations_applied (filename text primary key, applied_at timestamptz not null default now(), checksum text not null)");
    for (const file of ["001_extensions.sql", "002_positions_hypertable.sql", "003_faulty_column.sql"]) {
      const checksum = execFileSync("sha256sum", [path.join(DB_INIT, file)], { encoding: "utf8" }).split(" ")[0];
      await pg.query(db, "INSERT INTO migrations_applied (filename, checksum) VALUES ($1, $2)", [file, checksum]);
    }
    const result = await dbInit(db, [DB_INIT]);
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain("db-init complete: 0 applied, 3 skipped");
  });
});

describe("the SqlMigrations provider's read: `pulumi refresh` sees a reset or tampered database", () => {
  const provider = sqlMigrationsProvider;

  async function appliedState(db: DbSettings) {
    const files = Object.fromEntries((await readMigrationFiles([DB_INIT])).map((f) => [f.filename, f.checksum]));
    const inputs = { dirs: ["db-init"], root: REPO_ROOT, db, files };
    return { inputs, state: (await provider.create!(inputs)).outs! };
  }

  it("reads back every applied file; after a reset it finds none, and the update applies them again", async () => {
    const db = await pg.createDatabase();
    const { inputs, state } = await appliedState(db);
    expect((await provider.read!("m", state)).props!.files).toEqual(inputs.files);

    await pg.query(db, "DROP TABLE positions; DROP TABLE migrations_applied");
    const observed = (await provider.read!("m", state)).props!;
    expect(observed.files).toEqual({});
    expect((await provider.diff!("m", observed, inputs)).changes).toBe(true);
    await provider.update!("m", observed, inputs);
    expect(await recorded(db)).toEqual(Object.keys(inputs.files));
    expect(await tableExists(db, "positions")).toBe(true);
  });

  it("a recorded checksum that differs from the file fails the next diff, naming the file", async () => {
    const db = await pg.createDatabase();
    const { inputs, state } = await appliedState(db);
    await pg.query(db, "UPDATE migrations_applied SET checksum = 'tampered' WHERE filename = '002_positions_hypertable.sql'");
    const observed = (await provider.read!("m", state)).props!;
    expect(observed.files["002_positions_hypertable.sql"]).toBe("tampered");
    await expect(provider.diff!("m", observed, inputs)).rejects.toThrow(/checksum mismatch: 002_positions_hypertable\.sql/);
  });

  it("fails with a clear message when the database cannot be reached, instead of reporting nothing applied", async () => {
    const db = await pg.createDatabase();
    const { state } = await appliedState(db);
    const gone = { ...state, db: { ...db, port: await freePort() } };
    await expect(provider.read!("m", gone)).rejects.toThrow(/cannot read migrations_applied from 127\.0\.0\.1:\d+: .*the state was left as it was/);
  }, 30_000);
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
