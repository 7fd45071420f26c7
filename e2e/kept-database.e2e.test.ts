/**
 * Adopting a kept database (scripts/lib/kept-database.ts) against real containers, no Pulumi: a
 * database set up with one clone's passwords, a first admin bootstrapped by Directus, a table made by
 * hand; then another clone's passwords are set (the leftover container running, as after
 * `git clean -fdx`; the volume alone, as after `dev:down`), Directus logs in with the new admin
 * password, and the hand-made row is still there. Needs Docker and the two upstream images (or their
 * stand-ins): `npx vitest run --config vitest.e2e.config.mts e2e/kept-database.e2e.test.ts`.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PGDATA } from "../lib/services";
import { docker, dockerOrThrow } from "../scripts/lib/docker";
import { AdoptionError, bringKeptDatabaseToSecrets, type KeptDatabase } from "../scripts/lib/kept-database";
import { ensureDocker, ensureImages, stackImages } from "../scripts/lib/machine";

const PREFIX = "trm-e2e-kept";
const names = { db: `${PREFIX}-db`, data: `${PREFIX}-pgdata`, directus: `${PREFIX}-directus` };
const log = (line: string) => console.log(`kept-database: ${line}`);
const [databaseImage, directusImage] = stackImages("dev");
const password = () => `Kp1${randomBytes(12).toString("base64url")}`;

function secrets() {
  return {
    db: { name: "directus", user: "directus", password: password() },
    admin: { email: "admin@trm.dev", password: password() },
    directus: { key: randomBytes(32).toString("hex"), secret: randomBytes(32).toString("hex") },
  };
}
const kept = (s: ReturnType<typeof secrets>): KeptDatabase => ({ stack: "dev", container: names.db, dataVolume: names.data, image: databaseImage, directusImage, ...s });

function removeAll(): void {
  docker(["rm", "-f", names.directus, names.db]);
  docker(["volume", "rm", names.data]);
}

/** The database container as the stack runs it: its password env only matters for a first initialisation. */
function startDatabase(s: ReturnType<typeof secrets>): void {
  dockerOrThrow(
    ["run", "-d", "--name", names.db, "-e", `PGDATA=${PGDATA}`, "-e", "POSTGRES_DB=directus", "-e", "POSTGRES_USER=directus", "-e", "POSTGRES_PASSWORD", "-v", `${names.data}:${PGDATA}`, databaseImage],
    { env: { POSTGRES_PASSWORD: s.db.password } },
  );
  for (let i = 0; !docker(["exec", names.db, "pg_isready", "-q", "-h", "127.0.0.1", "-U", "directus"]).ok; i++) {
    if (i > 300) throw new Error(`${names.db} not ready: ${docker(["logs", "--tail", "20", names.db]).stderr}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}

/**
 * SQL over TCP with a password, as Directus and the stack's scripts connect: to the container's own
 * network address, since initdb trusts 127.0.0.1 inside the container.
 */
function sqlWithPassword(pw: string, sql: string) {
  const ip = dockerOrThrow(["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", names.db]);
  return docker(["exec", "-e", "PGPASSWORD", names.db, "psql", "-X", "-A", "-t", "-h", ip, "-U", "directus", "-d", "directus", "-c", sql], { env: { PGPASSWORD: pw } });
}

const directusEnv = (s: ReturnType<typeof secrets>) => ({
  args: ["-e", "DB_CLIENT=pg", "-e", "DB_HOST=127.0.0.1", "-e", "DB_PORT=5432", "-e", "DB_DATABASE=directus", "-e", "DB_USER=directus", "-e", `ADMIN_EMAIL=${s.admin.email}`,
    "-e", "TELEMETRY=false", "-e", "DB_PASSWORD", "-e", "ADMIN_PASSWORD", "-e", "KEY", "-e", "SECRET"],
  env: { DB_PASSWORD: s.db.password, ADMIN_PASSWORD: s.admin.password, KEY: s.directus.key, SECRET: s.directus.secret },
});

/** Directus on the database container's network, then a login as the first admin through its API. */
function adminLogsIn(s: ReturnType<typeof secrets>): string {
  const { args, env } = directusEnv(s);
  dockerOrThrow(["run", "-d", "--name", names.directus, "--network", `container:${names.db}`, ...args, "--entrypoint", "sh", directusImage, "-c", "node cli.js start"], { env });
  try {
    const login = `
      const body = JSON.stringify({ email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD });
      const tryLogin = async (left) => {
        try {
          const r = await fetch("http://127.0.0.1:8055/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body });
          console.log(r.status);
        } catch (e) {
          if (left > 0) return setTimeout(() => tryLogin(left - 1), 1000);
          console.log("no answer: " + e.message);
        }
      };
      tryLogin(180);`;
    return docker(["exec", "-e", "ADMIN_PASSWORD", names.directus, "node", "-e", login], { env }).stdout;
  } finally {
    docker(["rm", "-f", names.directus]);
  }
}

const first = secrets();
/** The secrets the kept database holds now. */
let current = first;

beforeAll(async () => {
  await ensureDocker(log);
  await ensureImages([databaseImage, directusImage], log);
  removeAll();
  startDatabase(first);
  const { args, env } = directusEnv(first);
  dockerOrThrow(["run", "--rm", "--network", `container:${names.db}`, ...args, "--entrypoint", "sh", directusImage, "-c", "node cli.js bootstrap"], { env });
  expect(sqlWithPassword(first.db.password, "CREATE TABLE made_by_hand (x text); INSERT INTO made_by_hand VALUES ('kept')").ok).toBe(true);
}, 15 * 60_000);

afterAll(removeAll);

describe("a kept database adopted by another clone", () => {
  it("with its container running (git clean -fdx): both passwords are this clone's, the data is there", () => {
    const second = secrets();
    const lines = bringKeptDatabaseToSecrets(kept(second), log);
    expect(lines).toEqual([
      "the password of database user directus (now this clone's dbPassword)",
      "the password of Directus admin admin@trm.dev (now this clone's adminPassword)",
    ]);
    expect(docker(["inspect", names.db]).ok).toBe(false); // removed: the up creates it again
    startDatabase(second);
    expect(sqlWithPassword(second.db.password, "SELECT x FROM made_by_hand").stdout).toBe("kept");
    expect(sqlWithPassword(first.db.password, "SELECT 1").stderr).toContain("password authentication failed");
    expect(adminLogsIn(second)).toBe("200");
    expect(adminLogsIn({ ...second, admin: first.admin })).toBe("401");
    current = second;
  });

  it("the volume alone (after dev:down): a temporary container on it, then removed", () => {
    docker(["rm", "-f", names.db]);
    const third = secrets();
    const lines: string[] = [];
    expect(bringKeptDatabaseToSecrets(kept(third), (line) => lines.push(line))).toHaveLength(2);
    expect(lines).toEqual([`starting a temporary ${names.db} on ${names.data} to reset its passwords`]);
    expect(docker(["inspect", names.db]).ok).toBe(false);
    startDatabase(third);
    expect(sqlWithPassword(third.db.password, "SELECT x FROM made_by_hand").stdout).toBe("kept");
    expect(sqlWithPassword(current.db.password, "SELECT 1").stderr).toContain("password authentication failed");
    expect(adminLogsIn(third)).toBe("200");
    current = third;
  });

  it("no admin with this clone's email: stops naming the database's users and the command, data kept", () => {
    const fourth = { ...secrets(), admin: { email: "someone@else.dev", password: password() } };
    let error: unknown;
    try {
      bringKeptDatabaseToSecrets(kept(fourth), log);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AdoptionError);
    expect((error as Error).message).toContain(`the kept database (volume ${names.data}) has no Directus user someone@else.dev (users: admin@trm.dev); nothing was changed`);
    expect((error as Error).message).toContain("npm run pulumi -- config set adminEmail <email> --stack dev");
    startDatabase(fourth);
    expect(sqlWithPassword(current.db.password, "SELECT x FROM made_by_hand").stdout).toBe("kept"); // its passwords unchanged
  });
});
