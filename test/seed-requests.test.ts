/**
 * The seed's request splitter (bytes and item count), the order of its requests across dependency
 * levels, and how a failed request is told apart: server limit, data refusal, other failure.
 */
import { describe, expect, it } from "vitest";
import { classifyFailure, isDataRefusal, serverLimitOf } from "../lib/seed/errors";
import { applySeedPlan, type SeedClient } from "../lib/seed/apply";
import { emptyState } from "../lib/seed/model";
import { planSeed, type ExistingState } from "../lib/seed/plan";
import { seedProgress } from "../lib/seed/progress";
import { OversizedItemError, parseByteSize, splitRequests } from "../lib/seed/requests";
import { COLLECTIONS } from "../lib/seed/model";

const json = (x: unknown) => JSON.stringify(x);

describe("parseByteSize reads MAX_PAYLOAD_SIZE as Directus does (bytes package, powers of 1024)", () => {
  it.each([
    ["1mb", 1048576],
    ["1MB", 1048576],
    ["500kb", 512000],
    ["2.5mb", 2621440],
    ["1048576", 1048576],
    ["100 b", 100],
  ])("%s = %d bytes", (value, bytes) => expect(parseByteSize(value)).toBe(bytes));

  it("refuses what Directus would not understand, naming the setting", () => {
    expect(() => parseByteSize("1 megabyte")).toThrow(/MAX_PAYLOAD_SIZE="1 megabyte" is not a size/);
    expect(() => parseByteSize("0kb")).toThrow(/more than 0 bytes/);
  });
});

describe("splitRequests", () => {
  const items = Array.from({ length: 10 }, (_, i) => ({ id: `item-${i}`, name: "x".repeat(10) }));
  const size = Buffer.byteLength(json(items[0]));

  it("keeps every body within the byte limit, counting the brackets and commas, in order", () => {
    const maxBodyBytes = 2 + 3 * size + 2; // exactly three items: [a,b,c]
    const slices = splitRequests(items, json, { maxBodyBytes, maxItems: 100 });
    expect(slices.map((s) => [s.start, s.end])).toEqual([[0, 3], [3, 6], [6, 9], [9, 10]]);
    for (const s of slices) expect(s.bytes).toBe(Buffer.byteLength(json(items.slice(s.start, s.end))));
    expect(Math.max(...slices.map((s) => s.bytes))).toBeLessThanOrEqual(maxBodyBytes);
  });

  it("one byte less and only two fit", () => {
    const slices = splitRequests(items, json, { maxBodyBytes: 2 + 3 * size + 1, maxItems: 100 });
    expect(slices[0]).toMatchObject({ start: 0, end: 2 });
  });

  it("counts UTF-8 bytes, not characters", () => {
    const wide = [{ name: "ëëëë" }, { name: "ëëëë" }];
    const bytes = Buffer.byteLength(json(wide));
    expect(bytes).toBeGreaterThan(json(wide).length);
    expect(splitRequests(wide, json, { maxBodyBytes: json(wide).length, maxItems: 10 })).toHaveLength(2);
    expect(splitRequests(wide, json, { maxBodyBytes: bytes, maxItems: 10 })).toHaveLength(1);
  });

  it("cuts by item count too", () => {
    const slices = splitRequests(items, json, { maxBodyBytes: 1_000_000, maxItems: 4 });
    expect(slices.map((s) => s.end - s.start)).toEqual([4, 4, 2]);
  });

  it("sizes a delete's {\"keys\":[...]} body", () => {
    const ids = ["a", "b", "c"];
    const [slice] = splitRequests(ids, json, { maxBodyBytes: 1000, maxItems: 10 }, "keys");
    expect(slice.bytes).toBe(Buffer.byteLength(json({ keys: ids })));
  });

  it("names an item that can never fit", () => {
    expect(() => splitRequests(items, json, { maxBodyBytes: size, maxItems: 10 })).toThrow(OversizedItemError);
  });

  it("no items, no requests", () => expect(splitRequests([], json, { maxBodyBytes: 100, maxItems: 10 })).toEqual([]));
});

describe("applySeedPlan sends requests level by level, within the limits", () => {
  const desired = emptyState();
  desired.organizations.org = { slug: "org", name: "Org" };
  for (let n = 0; n < 25; n++) {
    const email = `u${n}@trm.dev`;
    desired.directus_users[email] = { email, first_name: "U", last_name: String(n), phone: null, birth_date: null, nationality: null };
    desired.organization_users[`org/${email}`] = { organization_id: "org", user_id: email, role: null };
  }
  const empty = Object.fromEntries(COLLECTIONS.map((c) => [c.name, []])) as unknown as ExistingState;

  /** A client that records each request (path and body size) and answers after a delay. */
  function recordingClient(fail?: (path: string, n: number) => unknown) {
    const sent: { path: string; bytes: number; items: number; finishedBefore: string[] }[] = [];
    const finished: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const client = {
      async request(command: () => { path: string; body?: string }) {
        const { path, body } = command();
        const record = { path, bytes: Buffer.byteLength(body ?? ""), items: (JSON.parse(body ?? "[]") as unknown[]).length, finishedBefore: [...finished] };
        sent.push(record);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        const error = fail?.(path, sent.length);
        if (error) throw error;
        finished.push(path);
        return [];
      },
    } as unknown as SeedClient;
    return { client, sent, maxInFlight: () => maxInFlight };
  }

  it("splits by bytes and count, runs at most `concurrency` at once, and finishes users before their junction rows start", async () => {
    const plan = planSeed(desired, empty);
    const { client, sent, maxInFlight } = recordingClient();
    const requests = await applySeedPlan(client, plan, { limits: { maxBodyBytes: 600, maxItems: 4 }, concurrency: 3 });
    expect(requests).toBe(sent.length);
    expect(Math.max(...sent.map((s) => s.bytes))).toBeLessThanOrEqual(600);
    expect(Math.max(...sent.map((s) => s.items))).toBeLessThanOrEqual(4);
    const users = sent.filter((s) => s.path === "/users");
    expect(users.reduce((n, s) => n + s.items, 0)).toBe(25);
    expect(sent.filter((s) => s.path === "/items/organization_users").reduce((n, s) => n + s.items, 0)).toBe(25);
    expect(maxInFlight()).toBe(3);
    const firstJunction = sent.find((s) => s.path === "/items/organization_users")!;
    expect(firstJunction.finishedBefore.filter((p) => p === "/users")).toHaveLength(users.length);
    expect(firstJunction.finishedBefore).toContain("/items/organizations");
  });

  it("after a failure sends nothing more and says what was written", async () => {
    const plan = planSeed(desired, empty);
    const tooLarge = Object.assign(new Error("Invalid payload. request entity too large."), {
      errors: [{ message: "Invalid payload. request entity too large.", extensions: { code: "INVALID_PAYLOAD" } }],
      response: { status: 400 },
    });
    const { client, sent } = recordingClient((path, n) => (path === "/users" && n === 3 ? tooLarge : undefined));
    const error = await applySeedPlan(client, plan, { limits: { maxBodyBytes: 100_000, maxItems: 10 }, concurrency: 1 }).catch((e: Error) => e);
    expect(sent.map((s) => s.path)).toEqual(["/items/organizations", "/users", "/users"]);
    expect((error as Error).message).toMatch(/already written by this run: organizations: 1 created; directus_users: 10 created$/m);
    expect((error as Error).message).toMatch(/MAX_PAYLOAD_SIZE/);
    expect((error as Error).message).not.toMatch(/fix the seed data/);
  });
});

describe("a failed request: server limit or bad data", () => {
  const directusError = (status: number, code: string, message: string, extensions: Record<string, unknown> = {}) =>
    Object.assign(new Error(message), { errors: [{ message, extensions: { code, ...extensions } }], response: { status } });
  const request = {
    collection: "directus_users",
    action: "create" as const,
    items: [{ key: "a@trm.dev", payload: { email: "a@trm.dev" } }, { key: "b@trm.dev", payload: { email: "b@trm.dev" } }],
    bodyBytes: 1_048_000,
  };

  it("Directus's 'request entity too large' names MAX_PAYLOAD_SIZE and the request's size, not the data", () => {
    const error = directusError(400, "INVALID_PAYLOAD", "Invalid payload. request entity too large.");
    const failure = classifyFailure(request, error, ["organizations: 1 created"]);
    expect(failure.kind).toBe("limit");
    expect(failure.message).toMatch(/MAX_PAYLOAD_SIZE/);
    expect(failure.message).toMatch(/2 item\(s\) in 1048000 bytes/);
    expect(failure.message).toMatch(/already written by this run: organizations: 1 created/);
    expect(failure.message).not.toMatch(/fix the seed data/);
  });

  it("a plain 413 (a proxy in front) is the same limit", () => {
    expect(serverLimitOf({ response: { status: 413 } })?.setting).toMatch(/MAX_PAYLOAD_SIZE/);
  });

  it("a rate limit names Directus's rate limiter settings", () => {
    const failure = classifyFailure(request, directusError(429, "REQUESTS_EXCEEDED", "Too many requests, retry after 1s."), []);
    expect(failure.kind).toBe("limit");
    expect(failure.message).toMatch(/RATE_LIMITER_POINTS/);
    expect(failure.message).not.toMatch(/fix the seed data/);
  });

  it("a timeout names the request timeout setting", () => {
    const failure = classifyFailure(request, new Error("Directus did not answer POST http://x/users within 120 s"), []);
    expect(failure.kind).toBe("limit");
    expect(failure.message).toMatch(/TRM_DIRECTUS_REQUEST_TIMEOUT_S/);
  });

  it("MAX_BATCH_MUTATION is a limit too", () => {
    const error = directusError(400, "INVALID_PAYLOAD", "Invalid payload. Exceeded max batch mutation limit of 100.");
    expect(classifyFailure(request, error, []).message).toMatch(/MAX_BATCH_MUTATION/);
  });

  it("only a validation refusal says to fix the seed data, naming the item and field", () => {
    const error = directusError(400, "RECORD_NOT_UNIQUE", 'Value "b@trm.dev" for field "email" in collection "directus_users" has to be unique.', { field: "email", value: "b@trm.dev" });
    expect(isDataRefusal(error)).toBe(true);
    const failure = classifyFailure(request, error, []);
    expect(failure.kind).toBe("data");
    expect(failure.keys).toEqual(["b@trm.dev"]);
    expect(failure.field).toBe("email");
    expect(failure.message).toMatch(/fix the seed data/);
  });

  it("a server error or a dropped connection is neither", () => {
    for (const error of [directusError(500, "INTERNAL_SERVER_ERROR", "An unexpected error occurred."), new TypeError("fetch failed")]) {
      const failure = classifyFailure(request, error, []);
      expect(failure.kind).toBe("server");
      expect(failure.message).not.toMatch(/fix the seed data/);
      expect(failure.message).toMatch(/check that Directus is up/);
    }
  });
});

describe("progress: written out of the total and the rate, per collection", () => {
  it("logs at most every interval, and always when a collection finishes", () => {
    const lines: string[] = [];
    let clock = 0;
    const progress = seedProgress((line) => lines.push(line), 2000, () => clock);
    progress.expect("directus_users", "create", 3000);
    clock = 1000;
    progress.sending("directus_users", "create");
    clock = 2000;
    progress.wrote("directus_users", "create", 1000); // 1 s after the first request: no line yet
    clock = 3500;
    progress.wrote("directus_users", "create", 1000);
    clock = 4000;
    progress.wrote("directus_users", "create", 1000);
    expect(lines).toEqual(["seed: directus_users 2000/3000 created (800 items/s)", "seed: directus_users 3000/3000 created (1000 items/s, 3.0 s)"]);
  });
});
