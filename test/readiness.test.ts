/**
 * Readiness (lib/readiness.ts) and the ServiceReady provider (components/service-ready.ts) against a
 * real PostgreSQL 16 and an HTTP server answering /server/health as Directus does. A container that
 * fails during the wait (Docker) is the engine e2e's case; the failure message's parsing of our
 * start-up script's log is test/startup.test.ts's.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceReadyProvider } from "../components/service-ready";
import { freePort } from "../lib/free-port";
import { databaseAccepts, directusHealthy, waitUntilServing } from "../lib/readiness";
import { startPostgres, type TestPostgres } from "../tools/harness/postgres";

/** No container by that name: the wait watches nothing but the check. */
const NO_CONTAINER = "trm-readiness-test-no-such-container";

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

/** /server/health answering "error" (503) `failures` times, then "ok", as Directus does once it serves. */
async function healthServer(failures: number): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((request, response) => {
    requests += 1;
    const ok = request.url === "/server/health" && requests > failures;
    response.writeHead(ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify({ status: ok ? "ok" : "error" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests: () => requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("readiness checks", () => {
  it("the database: a connection and SELECT 1, or what failed", async () => {
    const db = await pg.createDatabase("ready");
    expect(await databaseAccepts(db)).toMatchObject({ ok: true, detail: "SELECT 1 answered" });
    const closed = await databaseAccepts({ ...db, port: await freePort() });
    expect(closed.ok).toBe(false);
    expect(closed.detail).toMatch(/ECONNREFUSED/);
    const wrongPassword = await databaseAccepts({ ...db, password: "not-the-password" });
    expect(wrongPassword).toMatchObject({ ok: false });
    expect(wrongPassword.detail).toMatch(/password authentication failed/);
  });

  it("Directus: /server/health with status ok, or what came back", async () => {
    const health = await healthServer(1);
    try {
      expect(await directusHealthy(health.url)).toMatchObject({ ok: false, detail: 'HTTP 503, status "error"' });
      expect(await directusHealthy(health.url)).toMatchObject({ ok: true, detail: 'HTTP 200, status "ok"' });
      expect((await directusHealthy(`http://127.0.0.1:${await freePort()}`)).detail).toBe("no answer (ECONNREFUSED)");
    } finally {
      await health.close();
    }
  });
});

describe("waitUntilServing", () => {
  it("asks again until the service serves", async () => {
    const health = await healthServer(5);
    try {
      const served = await waitUntilServing({ check: () => directusHealthy(health.url), container: NO_CONTAINER, timeoutSeconds: 30 });
      expect(served.ok).toBe(true);
      expect(health.requests()).toBe(6);
    } finally {
      await health.close();
    }
  });

  it("gives up at the deadline, naming the check, its last answer and the container's log", async () => {
    const health = await healthServer(Number.POSITIVE_INFINITY);
    try {
      const waiting = waitUntilServing({ check: () => directusHealthy(health.url), container: NO_CONTAINER, timeoutSeconds: 0.5 });
      await expect(waiting).rejects.toMatchObject({ name: "NotServingError" });
      await expect(waiting).rejects.toThrow(
        `Directus answers ${health.url}/server/health: not after 0.5 s (HTTP 503, status "error"). Its container's log: docker logs ${NO_CONTAINER}`,
      );
    } finally {
      await health.close();
    }
  });
});

describe("the ServiceReady provider", () => {
  const inputs = (readiness: { database: Awaited<ReturnType<TestPostgres["createDatabase"]>> } | { directusUrl: string }, containerId = "c1") => ({
    containerName: NO_CONTAINER,
    containerId,
    readiness,
    timeoutSeconds: 30,
  });

  it("creates once the database serves, and records only what it was given", async () => {
    const db = await pg.createDatabase("ready_provider");
    const created = await serviceReadyProvider.create!(inputs({ database: db }));
    expect(created).toEqual({ id: `${NO_CONTAINER}@c1`, outs: inputs({ database: db }) });
  });

  it("waits for Directus to serve, and again only for a new container", async () => {
    const health = await healthServer(2);
    try {
      const first = inputs({ directusUrl: health.url });
      await serviceReadyProvider.create!(first);
      expect(health.requests()).toBe(3);
      expect(await serviceReadyProvider.diff!(`${NO_CONTAINER}@c1`, first, first)).toMatchObject({ changes: false });
      const replaced = inputs({ directusUrl: health.url }, "c2");
      expect(await serviceReadyProvider.diff!(`${NO_CONTAINER}@c1`, first, replaced)).toMatchObject({ changes: true, replaces: [] });
      expect(await serviceReadyProvider.update!(`${NO_CONTAINER}@c1`, first, replaced)).toEqual({ outs: replaced });
    } finally {
      await health.close();
    }
  });
});
