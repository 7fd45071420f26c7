/**
 * The Gitea Actions workflow (.gitea/workflows/build.yml) and the Portainer hand-off.
 * actionlint itself runs in .ci/run (a Go binary); these check what a linter cannot know.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { deployToPortainer, pinImage, PORTAINER_SECRET_ENV, renderPortainerStack } from "../lib/portainer";
import { REPO_ROOT } from "./support/cli";

const workflow = parse(readFileSync(path.join(REPO_ROOT, ".gitea/workflows/build.yml"), "utf8"));
const steps: { name?: string; uses?: string; run?: string; if?: string; "continue-on-error"?: boolean; env?: Record<string, string> }[] =
  workflow.jobs.build.steps;

/**
 * Files that do not shape the image or the stack: documentation, tests, CI-local tooling, and
 * offline/ (the toolchain and stand-ins of machines without a registry; Gitea pulls the real images).
 */
const NOT_INPUTS = [/\.md$/, /^test\//, /^e2e\//, /^\.ci\//, /^offline\//, /^vitest(\.e2e)?\.config\.mts$/, /^\.git(ignore|attributes)$/, /^bench\//];

function globToRegExp(glob: string): RegExp {
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*\*/g, "\u0000")
    .replace(/\*/g, "[^/]*")
    .replace(/\u0000/g, ".*");
  return new RegExp(`^${source}$`);
}

describe("the Gitea workflow", () => {
  it("runs on pushes to main and by hand, on ubuntu-22.04", () => {
    expect(workflow.on.push.branches).toEqual(["main"]);
    expect(workflow.on).toHaveProperty("workflow_dispatch");
    expect(workflow.jobs.build["runs-on"]).toBe("ubuntu-22.04");
  });

  it("path filters cover every tracked file that shapes the image or the stack", () => {
    const filters = (workflow.on.push.paths as string[]).map(globToRegExp);
    const tracked = execFileSync("git", ["ls-files"], { cwd: REPO_ROOT, encoding: "utf8" }).trim().split("\n");
    const uncovered = tracked.filter((f) => !NOT_INPUTS.some((re) => re.test(f)) && !filters.some((re) => re.test(f)));
    expect(uncovered).toEqual([]);
    // and docs-only changes do not trigger it
    expect(filters.some((re) => re.test("README.md"))).toBe(false);
  });

  it("covers every COPY source of the Dockerfile", () => {
    const dockerfile = readFileSync(path.join(REPO_ROOT, "Dockerfile"), "utf8");
    const sources = [...dockerfile.matchAll(/^COPY(?:\s+--\S+)*\s+(\S+)\s+\S+$/gm)].map((m) => m[1]);
    expect(sources.length).toBeGreaterThan(3);
    const filters = (workflow.on.push.paths as string[]).map(globToRegExp);
    const builtFrom = (source: string) => (source.startsWith("dist/image/") ? "scripts/db-init.ts" : `${source.replace(/\/$/, "")}/x`);
    for (const source of sources) {
      const probe = source.endsWith("/") ? builtFrom(source) : source;
      expect(filters.some((re) => re.test(probe)), source).toBe(true);
    }
  });

  it("pushes only after the tests, the preview, the dry-run and the smoke check all passed", () => {
    const index = (name: string) => steps.findIndex((s) => s.name === name);
    const push = index("Push the image");
    for (const gate of ["Unit and integration tests", "Preview", "Dry-run up", "Smoke check of the seeded Directus"]) {
      expect(index(gate), gate).toBeGreaterThanOrEqual(0);
      expect(index(gate)).toBeLessThan(push);
    }
    // A failed step skips every later step that has no `if:` (or `if: success()`): the push has none,
    // and nothing before it may swallow a failure.
    for (const step of steps.slice(push)) {
      if (step.if) expect(step.if).toMatch(/^success\(\)/);
    }
    for (const step of steps.slice(0, push)) expect(step["continue-on-error"], step.name).toBeUndefined();
    expect(steps[push].run).toContain('docker push "$IMAGE:main"');
    expect(steps[push].run).toContain('docker push "$IMAGE:${{ github.sha }}"');
    expect(workflow.env.IMAGE).toBe("git.dev.microservices.al/trm/directus");
  });

  it("keeps container logs on failure and always destroys the ci stack", () => {
    const logs = steps.find((s) => s.name === "Container logs")!;
    expect(logs.if).toBe("failure()");
    expect(logs.run).toContain("docker logs trm-ci-db");
    expect(logs.run).toContain("docker logs trm-ci-directus");
    expect(steps.find((s) => s.name === "Destroy the ci stack")!.if).toBe("always()");
  });

  it("never puts a secret on a command line or in the log", () => {
    for (const step of steps) {
      expect(step.run ?? "", step.name).not.toMatch(/\$\{\{\s*secrets\./);
      expect(step.run ?? "", step.name).not.toMatch(/echo[^\n]*\$\{?[A-Z_]*(PASSWORD|TOKEN|SECRET|WEBHOOK)/);
    }
    const push = steps.find((s) => s.name === "Push the image")!;
    expect(push.run).toContain("--password-stdin");
    expect(push.env?.REGISTRY_PASSWORD).toBe("${{ secrets.REGISTRY_PASSWORD }}");
  });
});

describe("the Portainer stack", () => {
  const input = {
    directusImage: "git.dev.microservices.al/trm/directus:main",
    databaseImage: "timescale/timescaledb-ha:pg16.6-ts2.17.2-all",
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
  const stack = renderPortainerStack(input);

  it("keeps every secret out of the compose text and in the env list", () => {
    for (const value of ["db-secret-value-1", "admin-secret-value-2", "key-secret-value-3", "secret-secret-value-4"]) {
      expect(stack.compose).not.toContain(value);
      expect(stack.env.some((e) => e.value === value)).toBe(true);
    }
    for (const name of PORTAINER_SECRET_ENV) expect(stack.compose).toContain(`\${${name}}`);
  });

  it("pins the Directus image by digest when the digest is known", () => {
    const digest = `git.dev.microservices.al/trm/directus@sha256:${"c".repeat(64)}`;
    const pinned = pinImage(stack, input.directusImage, digest);
    expect(parse(pinned.compose).services.directus.image).toBe(digest);
    expect(parse(pinned.compose).services.db.image).toBe(input.databaseImage);
    expect(pinImage(stack, input.directusImage, undefined)).toBe(stack);
  });

  it("creates the stack through Portainer's API, then updates it in place", async () => {
    const stacks: { Id: number; Name: string; EndpointId: number }[] = [];
    const calls: { method: string; url: string; apiKey: string; body: any }[] = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        calls.push({ method: req.method!, url: req.url!, apiKey: String(req.headers["x-api-key"]), body: body ? JSON.parse(body) : undefined });
        if (req.method === "GET" && req.url === "/api/stacks") return res.end(JSON.stringify(stacks));
        if (req.method === "POST") {
          stacks.push({ Id: 7, Name: JSON.parse(body).name, EndpointId: 2 });
          return res.end(JSON.stringify({ Id: 7 }));
        }
        res.end(JSON.stringify({ Id: 7 }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const target = { url, apiKey: "ptr_test", endpointId: 2, stackName: "trm-directus" };
    try {
      expect(await deployToPortainer(target, stack)).toEqual({ action: "created", id: 7 });
      expect(await deployToPortainer(target, stack)).toEqual({ action: "updated", id: 7 });
    } finally {
      server.close();
    }
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      "GET /api/stacks",
      "POST /api/stacks/create/standalone/string?endpointId=2",
      "GET /api/stacks",
      "PUT /api/stacks/7?endpointId=2",
    ]);
    expect(calls.every((c) => c.apiKey === "ptr_test")).toBe(true);
    expect(calls[1].body).toMatchObject({ name: "trm-directus", stackFileContent: stack.compose, env: stack.env });
    expect(calls[3].body).toMatchObject({ stackFileContent: stack.compose, env: stack.env, pullImage: true });
  });
});
