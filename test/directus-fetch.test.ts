import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { resendSafeRequestsOnClosedSocket } from "../lib/directus-client";

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
