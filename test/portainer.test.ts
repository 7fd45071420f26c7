/**
 * The Portainer hand-off (lib/portainer/, scripts/portainer-stack.ts) against an HTTP fake of
 * Portainer CE 2.23's API (test/support/fake-portainer.ts): what the real API does that the client
 * must follow. The health gate and the rollback: test/portainer-rollout.test.ts.
 */
import { parse } from "yaml";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  pinImage,
  PORTAINER_SECRET_ENV,
  renderPortainerStack,
  stackInputFromConfig,
  type PortainerStackInput,
} from "../lib/compose";
import { deployToPortainer, invokeStackWebhook, PortainerError, type PortainerTarget } from "../lib/portainer";
import { validateStackConfig } from "../lib/stack-config";
import { readPortainerSettings, redeploy, settingsPrefix, type RedeployDeps } from "../scripts/portainer-stack";
import { teamSettings } from "../scripts/render-portainer-compose";
import { COMPOSE, FakePortainer } from "./support/fake-portainer";

const REPOSITORY = "git.dev.microservices.al/trm/directus";
const DIGEST_REF = `${REPOSITORY}@sha256:${"a".repeat(64)}`;
const DB_IMAGE = "timescale/timescaledb-ha:pg16.6-ts2.17.2-all";

const input: PortainerStackInput = {
  directusImage: DIGEST_REF,
  databaseImage: DB_IMAGE,
  database: { name: "directus", user: "directus", password: "db-secret-value-1" },
  directus: {
    publicUrl: "https://trm.example.com",
    adminEmail: "admin@trm.dev",
    adminPassword: "admin-secret-value-2",
    key: "key-secret-value-3",
    secret: "secret-secret-value-4",
    schemaApplyMode: "apply",
    schemaAllowDeletions: false,
  },
};

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

describe("the rendered Portainer stack", () => {
  const stack = renderPortainerStack(input);

  it("keeps every secret out of the compose text and in the env list", () => {
    for (const value of ["db-secret-value-1", "admin-secret-value-2", "key-secret-value-3", "secret-secret-value-4"]) {
      expect(stack.compose).not.toContain(value);
      expect(stack.env.some((e) => e.value === value)).toBe(true);
    }
    for (const name of PORTAINER_SECRET_ENV) expect(stack.compose).toContain(`\${${name}}`);
  });

  it("pins the Directus image by digest when the digest is known", () => {
    const tagged = renderPortainerStack({ ...input, directusImage: `${REPOSITORY}:main` });
    const pinned = pinImage(tagged, `${REPOSITORY}:main`, DIGEST_REF);
    expect(parse(pinned.compose).services.directus.image).toBe(DIGEST_REF);
    expect(parse(pinned.compose).services.db.image).toBe(DB_IMAGE);
    expect(pinImage(tagged, `${REPOSITORY}:main`, undefined)).toBe(tagged);
  });

  it("renders a validated stack config, Directus on the image given", () => {
    const config = validateStackConfig("stage", { ...teamSettings("stage"), ...secretConfig("1"), publicUrl: "https://stage.trm.example" });
    const rendered = renderPortainerStack(stackInputFromConfig(config, DIGEST_REF));
    expect(parse(rendered.compose).services.directus.image).toBe(DIGEST_REF);
    expect(rendered.env).toContainEqual({ name: "PUBLIC_URL", value: "https://stage.trm.example" });
    expect(rendered.env).toContainEqual({ name: "DB_PASSWORD", value: secretConfig("1").dbPassword });
    expect(parse(renderPortainerStack(stackInputFromConfig(config)).compose).services.directus.image).toBe(config.registryImage);
  });
});

describe("deployToPortainer against Portainer's API (an HTTP fake of CE 2.23)", () => {
  let fake: FakePortainer;

  beforeEach(async () => {
    fake = new FakePortainer();
    fake.registry.add(DIGEST_REF).add(DB_IMAGE);
    await fake.start();
  });
  afterEach(() => fake.stop());

  /** Portainer as an operator sets it up: the admin, the Docker host as environment 1, a token. */
  function setUp(): PortainerTarget {
    fake.initialiseAdmin();
    fake.connectEnvironment(1, "local");
    return { url: fake.url, apiKey: fake.createAccessToken(), endpointId: 1, stackName: "trm-directus" };
  }

  const calls = () => fake.requests.map((r) => `${r.method} ${r.path}`);

  it("a Portainer without its administrator has no environment yet: the error says how to set it up", async () => {
    const target = { url: fake.url, apiKey: "ptr_made_up", endpointId: 1, stackName: "trm-directus" };
    const error = await deployToPortainer(target, renderPortainerStack(input)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(PortainerError);
    expect((error as Error).message).toMatch(/has no administrator yet, so it has no environment 1 \(PORTAINER_ENDPOINT_ID\)/);
    expect((error as Error).message).toMatch(/create the admin, connect the Docker host .* for PORTAINER_API_KEY/);
    expect(calls()).toEqual(["GET /api/endpoints/1", "GET /api/users/admin/check"]);
  });

  it("an environment id Portainer lacks is reported with the ids it has", async () => {
    const target = { ...setUp(), endpointId: 2 };
    await expect(deployToPortainer(target, renderPortainerStack(input))).rejects.toThrow(
      /has no environment with id 2 \(PORTAINER_ENDPOINT_ID\): it has 1 \(local\); set PORTAINER_ENDPOINT_ID/,
    );
    expect(calls().some((c) => c.startsWith("POST"))).toBe(false);
  });

  it("a rejected access token names PORTAINER_API_KEY and never prints the key", async () => {
    const target = { ...setUp(), apiKey: "ptr_revoked_0123456789" };
    const error = (await deployToPortainer(target, renderPortainerStack(input)).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/rejected PORTAINER_API_KEY \(HTTP 401 Invalid JWT token\): create an access token/);
    expect(error.message).not.toContain("ptr_revoked_0123456789");
  });

  it("creates the stack, then updates it in place: idempotent by its name as Portainer normalises it", async () => {
    const target = { ...setUp(), stackName: "TRM-Directus" };
    fake.connectEnvironment(3, "edge");
    const elsewhere = fake.addStack({ Name: "trm-directus", Type: COMPOSE, EndpointId: 3, Env: [], GitConfig: null, compose: "services: {}\n" });
    const stack = renderPortainerStack(input);

    const first = await deployToPortainer(target, stack);
    const second = await deployToPortainer(target, stack);
    const third = await deployToPortainer(target, stack);

    expect(first).toMatchObject({ action: "created", id: 2, name: "trm-directus", keptSecrets: [] });
    expect(first.previous).toBeUndefined();
    expect([second, third].map((r) => `${r.action} ${r.id}`)).toEqual(["updated 2", "updated 2"]);
    expect(fake.stacks.filter((s) => s.Name === "trm-directus").map((s) => s.EndpointId)).toEqual([3, 1]);
    expect(fake.stacks.find((s) => s.Id === elsewhere.Id)).toEqual(elsewhere);
    expect(calls()).toEqual([
      "GET /api/endpoints/1",
      "GET /api/stacks",
      "POST /api/stacks/create/standalone/string?endpointId=1",
      "GET /api/endpoints/1",
      "GET /api/stacks",
      "GET /api/stacks/2/file",
      "PUT /api/stacks/2?endpointId=1",
      "GET /api/endpoints/1",
      "GET /api/stacks",
      "GET /api/stacks/2/file",
      "PUT /api/stacks/2?endpointId=1",
    ]);
    expect(fake.requests[2].body).toEqual({ name: "trm-directus", stackFileContent: stack.compose, env: stack.env });
  });

  it("an update sends the compose text, the whole env list and pullImage, and never prune (compose stacks ignore it)", async () => {
    const target = setUp();
    await deployToPortainer(target, renderPortainerStack(input));
    const changed = renderPortainerStack({ ...input, directus: { ...input.directus, publicUrl: "https://changed.trm.example" } });
    await deployToPortainer(target, changed);

    const put = fake.requests.find((r) => r.method === "PUT")!;
    expect(Object.keys(put.body).sort()).toEqual(["env", "pullImage", "stackFileContent"]);
    expect(put.body.pullImage).toBe(true);
    expect(fake.pulls).toEqual([1]);
    expect(fake.stacks[0].Env).toEqual(changed.env);
    expect(fake.stacks[0].compose).toBe(changed.compose);
  });

  it.each([
    {
      what: "a local-only tag",
      image: "trm-directus:ci",
      reason: /pull access denied for trm-directus, repository does not exist/,
    },
    {
      what: "a digest the registry does not serve",
      image: `${REPOSITORY}@sha256:${"b".repeat(64)}`,
      reason: /manifest for git\.dev\.microservices\.al\/trm\/directus@sha256:b+ not found: manifest unknown/,
    },
  ])("a pull failure during the update names only the image at fault ($what), though compose repeats the reason on the db line; the stack runs on as it was", async ({ image, reason }) => {
    const target = setUp();
    fake.hostImages.add("trm-directus:ci");
    const running = renderPortainerStack(input);
    await deployToPortainer(target, running);

    const error = (await deployToPortainer(target, renderPortainerStack({ ...input, directusImage: image })).catch((e: Error) => e)) as Error;
    expect(error).toBeInstanceOf(PortainerError);
    expect(error.message).toContain(`could not pull ${image} (service directus) while updating stack trm-directus`);
    expect(error.message).toMatch(reason);
    expect(error.message).toMatch(/registry the Portainer host reaches, never a local-only tag/);
    expect(error.message).not.toContain(DB_IMAGE);
    expect(fake.stacks[0].compose).toBe(running.compose);
    expect(fake.stacks[0].Env).toEqual(running.env);
  });

  it("keeps the secrets the stack holds when asked (its database was initialised with them), and takes the rest", async () => {
    const target = setUp();
    const first = renderPortainerStack(input);
    await deployToPortainer(target, first);
    const rotated = renderPortainerStack({
      ...input,
      database: { ...input.database, password: "another-db-secret" },
      directus: { ...input.directus, adminPassword: "another-admin", key: "another-key", secret: "another-secret", publicUrl: "https://new.trm.example" },
    });

    const result = await deployToPortainer(target, rotated, { keepExistingSecrets: true });

    expect(result.keptSecrets.sort()).toEqual([...PORTAINER_SECRET_ENV].sort());
    const env = Object.fromEntries(fake.stacks[0].Env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ DB_PASSWORD: "db-secret-value-1", ADMIN_PASSWORD: "admin-secret-value-2", KEY: "key-secret-value-3" });
    expect(env).toMatchObject({ SECRET: "secret-secret-value-4", PUBLIC_URL: "https://new.trm.example" });
  });

  it.each([
    { kind: "deployed from git", Type: COMPOSE, GitConfig: { URL: "https://git.example/trm/deploy.git" }, message: /deployed from git \(https:\/\/git\.example\/trm\/deploy\.git\).*set PORTAINER_WEBHOOK_URL/ },
    { kind: "a Swarm stack", Type: 1, GitConfig: null, message: /is a Swarm stack, and this client manages compose \(standalone\) stacks/ },
  ])("refuses to update a stack of that name that is $kind", async ({ Type, GitConfig, message }) => {
    const target = setUp();
    fake.addStack({ Name: "trm-directus", Type, EndpointId: 1, Env: [], GitConfig, compose: "services: {}\n" });
    await expect(deployToPortainer(target, renderPortainerStack(input))).rejects.toThrow(message);
    expect(calls().some((c) => c.startsWith("PUT") || c.startsWith("POST"))).toBe(false);
  });

  it("calls a git stack's webhook; an unknown one is a clear error that does not print the URL", async () => {
    setUp();
    const webhook = "3f0c4d1e-8d3b-4c1a-9f2e-5b6a7c8d9e0f";
    const stack = fake.addStack({ Name: "trm-git", Type: COMPOSE, EndpointId: 1, Env: [], GitConfig: { URL: "https://git.example/x.git" }, compose: "services: {}\n", webhook });

    await invokeStackWebhook(`${fake.url}/api/stacks/webhooks/${webhook}`);
    expect(fake.webhookRedeploys).toEqual([stack.Id]);

    const unknown = "00000000-1111-4222-8333-444444444444";
    const error = (await invokeStackWebhook(`${fake.url}/api/stacks/webhooks/${unknown}`).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/no Portainer stack has the webhook in PORTAINER_WEBHOOK_URL \(HTTP 404\)/);
    expect(error.message).not.toContain(unknown);
  });

  it("says when Portainer cannot be reached, naming PORTAINER_URL", async () => {
    const target = setUp();
    await fake.stop();
    await expect(deployToPortainer(target, renderPortainerStack(input))).rejects.toThrow(/cannot reach Portainer at .* \(PORTAINER_URL\): ECONNREFUSED/);
    await fake.start();
  });
});

/** A stack config's secrets, distinct per `tag`, valid for validateStackConfig. */
function secretConfig(tag: string) {
  return {
    adminPassword: `Rally-${tag}-Xy7q`,
    dbPassword: `stage-db-password-${tag}`,
    directusKey: `stage-key-${tag}-`.padEnd(40, "k"),
    directusSecret: `stage-secret-${tag}-`.padEnd(40, "s"),
  };
}

describe("npm run portainer:stack's settings", () => {
  it.each([
    { env: {}, expected: { webhookUrl: undefined } },
    // Gitea passes a secret that is not set as ""
    { env: { PORTAINER_URL: "", PORTAINER_API_KEY: "", PORTAINER_ENDPOINT_ID: "", PORTAINER_WEBHOOK_URL: "" }, expected: { webhookUrl: undefined } },
    { env: { PORTAINER_WEBHOOK_URL: "https://p.example/api/stacks/webhooks/x" }, expected: { webhookUrl: "https://p.example/api/stacks/webhooks/x" } },
    {
      env: { PORTAINER_URL: "https://p.example", PORTAINER_API_KEY: "ptr_x", PORTAINER_ENDPOINT_ID: "3", PORTAINER_STACK_NAME: "" },
      expected: { api: { url: "https://p.example", apiKey: "ptr_x", endpointId: 3, stackName: "trm-directus" } },
    },
  ])("reads $env", ({ env, expected }) => {
    expect(readPortainerSettings(env)).toEqual(expected);
  });

  it.each([
    { env: { PORTAINER_URL: "https://p.example" }, message: /with PORTAINER_URL set, also set PORTAINER_API_KEY, PORTAINER_ENDPOINT_ID/ },
    { env: { PORTAINER_URL: "https://p.example", PORTAINER_API_KEY: "k", PORTAINER_ENDPOINT_ID: "local" }, message: /PORTAINER_ENDPOINT_ID must be the environment's numeric id .*got "local"/ },
    {
      env: { PORTAINER_URL: "https://p.example", PORTAINER_API_KEY: "k", PORTAINER_ENDPOINT_ID: "1", PORTAINER_WEBHOOK_URL: "https://p.example/w" },
      message: /PORTAINER_WEBHOOK_URL is set too/,
    },
  ])("rejects $env", ({ env, message }) => {
    expect(() => readPortainerSettings(env)).toThrow(message);
  });

  it("reads prod's own settings (PROD_PORTAINER_*), naming them in its errors; stage's are PORTAINER_*", () => {
    expect([settingsPrefix("stage"), settingsPrefix("prod")]).toEqual(["", "PROD_"]);
    const env = { PORTAINER_URL: "https://stage.example", PROD_PORTAINER_URL: "https://prod.example", PROD_PORTAINER_API_KEY: "ptr_p", PROD_PORTAINER_ENDPOINT_ID: "4" };
    expect(readPortainerSettings(env, "PROD_")).toEqual({ api: { url: "https://prod.example", apiKey: "ptr_p", endpointId: 4, stackName: "trm-directus" } });
    expect(() => readPortainerSettings({ PROD_PORTAINER_URL: "https://prod.example" }, "PROD_")).toThrow(
      /with PROD_PORTAINER_URL set, also set PROD_PORTAINER_API_KEY, PROD_PORTAINER_ENDPOINT_ID/,
    );
  });
});

describe("npm run portainer:stack -- --redeploy (CI, after the push)", () => {
  let fake: FakePortainer;
  const pushed = `${REPOSITORY}:0123abcd`;
  const lines: string[] = [];

  beforeEach(async () => {
    lines.length = 0;
    fake = new FakePortainer();
    fake.registry.add(DIGEST_REF).add(DB_IMAGE);
    await fake.start();
    fake.initialiseAdmin();
    fake.connectEnvironment(1, "local");
  });
  afterEach(() => fake.stop());

  function deps(config: Record<string, string>): RedeployDeps {
    return {
      digestOf: (image) => (image === pushed ? DIGEST_REF : undefined),
      readConfig: async (stackName) => ({ ...teamSettings(stackName), ...config }),
      log: (line) => lines.push(line),
    };
  }

  const settings = () => ({ api: { url: fake.url, apiKey: fake.createAccessToken(), endpointId: 1, stackName: "trm-directus" } });
  // seeding through publicUrl needs a Directus: test/portainer-rollout.test.ts and the e2e do it
  const stageConfig = (tag: string) => ({ ...secretConfig(tag), publicUrl: "https://stage.trm.example", seedFile: "" });

  it("renders the stage stack config with the pushed image by digest, creates the stack, then updates it keeping its secrets", async () => {
    const api = settings();
    const created = await redeploy(pushed, "stage", api, deps(stageConfig("first-run")));
    const updated = await redeploy(pushed, "stage", api, deps(stageConfig("second-run")));

    expect([created?.action, updated?.action]).toEqual(["created", "updated"]);
    const [stack] = fake.stacks;
    expect(parse(stack.compose).services.directus.image).toBe(DIGEST_REF);
    const env = Object.fromEntries(stack.Env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ ADMIN_EMAIL: "admin@trm.dev", PUBLIC_URL: "https://stage.trm.example", DB_PASSWORD: secretConfig("first-run").dbPassword });
    expect(fake.pulls).toEqual([stack.Id]);
    expect(lines).toContainEqual(
      expect.stringMatching(/stack trm-directus \(id 1\) on environment 1 updated to Directus .*@sha256:a+, images pulled \(accepted in .* s, Directus healthy .* s later\); kept the secrets it holds \(DB_PASSWORD, KEY, SECRET, ADMIN_PASSWORD\)/),
    );
    for (const line of lines) for (const value of Object.values(secretConfig("first-run"))) expect(line).not.toContain(value);
  });

  it("refuses a stack config without publicUrl, and an image the local Docker has no digest for, before calling Portainer", async () => {
    await expect(redeploy(pushed, "stage", settings(), deps(secretConfig("x")))).rejects.toThrow(
      /stack stage: publicUrl is not set.*set trm-directus:publicUrl in Pulumi\.stage\.yaml/,
    );
    await expect(redeploy(`${REPOSITORY}:never-pushed`, "stage", settings(), deps(stageConfig("x")))).rejects.toThrow(
      /no registry digest for git\.dev\.microservices\.al\/trm\/directus:never-pushed: push it first/,
    );
    expect(fake.requests).toEqual([]);
  });

  it("calls the webhook instead when only PORTAINER_WEBHOOK_URL is set, and says so when nothing is", async () => {
    const webhook = "6b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";
    const stack = fake.addStack({ Name: "trm-git", Type: COMPOSE, EndpointId: 1, Env: [], GitConfig: { URL: "https://git.example/x.git" }, compose: "services: {}\n", webhook });
    await redeploy(pushed, "stage", { webhookUrl: `${fake.url}/api/stacks/webhooks/${webhook}` }, deps(stageConfig("x")));
    expect(fake.webhookRedeploys).toEqual([stack.Id]);

    expect(await redeploy(pushed, "stage", {}, deps(stageConfig("x")))).toBeUndefined();
    expect(lines.at(-1)).toMatch(/no Portainer settings \(PORTAINER_URL, PORTAINER_API_KEY, PORTAINER_ENDPOINT_ID; or PORTAINER_WEBHOOK_URL .*\): nothing redeployed/);
  });
});
