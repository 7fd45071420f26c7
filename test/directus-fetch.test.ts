import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { giveUpOnSilentServer, resendSafeRequestsOnClosedSocket } from "../lib/directus-client";

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

/** A server that kills the socket under the first `kills` requests without answering, then answers "ok". */
async function serverKillingFirst(kills: number): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  server = createServer((req, res) => {
    seen.push(req.method!);
    if (seen.length <= kills) return req.socket.destroy();
    res.end("ok");
  });
  await new Promise<void>((ready) => server!.listen(0, "127.0.0.1", ready));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/items/classes`, seen };
}

describe("resendSafeRequestsOnClosedSocket: the Directus client's fetch", () => {
  it("sends a read once more when the server closed the socket under it", async () => {
    const { url, seen } = await serverKillingFirst(1);
    const response = await resendSafeRequestsOnClosedSocket()(url);
    expect(await response.text()).toBe("ok");
    expect(seen).toEqual(["GET", "GET"]);
  });

  it("never resends a write, and a read only once", async () => {
    const post = await serverKillingFirst(1);
    await expect(resendSafeRequestsOnClosedSocket()(post.url, { method: "POST", body: "{}" })).rejects.toThrow(/fetch failed/);
    expect(post.seen).toEqual(["POST"]);
    await new Promise<void>((done) => server!.close(() => done()));
    const get = await serverKillingFirst(2);
    await expect(resendSafeRequestsOnClosedSocket()(get.url)).rejects.toThrow(/fetch failed/);
    expect(get.seen).toEqual(["GET", "GET"]);
  });

  it("sends a login once more: a second login only opens one more session", async () => {
    const { url, seen } = await serverKillingFirst(1);
    const login = new URL("/auth/login", url).href;
    const response = await resendSafeRequestsOnClosedSocket()(login, { method: "POST", body: "{}" });
    expect(await response.text()).toBe("ok");
    expect(seen).toEqual(["POST", "POST"]);
  });

  it("does not hide a refused connection", async () => {
    const { url } = await serverKillingFirst(0);
    await new Promise<void>((done) => server!.close(() => done()));
    server = undefined;
    await expect(resendSafeRequestsOnClosedSocket()(url)).rejects.toThrow(/fetch failed/);
  });
});

describe("giveUpOnSilentServer: a Directus that never answers does not hang the caller", () => {
  it("fails after the timeout, naming the request; an answer in time passes", async () => {
    server = createServer((req, res) => {
      if (req.url === "/fast") res.end("ok");
      // "/silent": never answered
    });
    await new Promise<void>((ready) => server!.listen(0, "127.0.0.1", ready));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fetchWithTimeout = giveUpOnSilentServer(fetch, 300);
    expect(await (await fetchWithTimeout(`${base}/fast`)).text()).toBe("ok");
    const started = Date.now();
    await expect(fetchWithTimeout(`${base}/silent`, { method: "PATCH" })).rejects.toThrow(`Directus did not answer PATCH ${base}/silent within 0.3 s`);
    expect(Date.now() - started).toBeLessThan(5_000);
    server.closeAllConnections();
  });
});
