/**
 * The Gitea Actions workflow (.gitea/workflows/build.yml) holds its promises: what triggers it, what
 * gates the push and the redeploy, where the Pulumi CLI and the registry host come from. actionlint
 * itself runs in .ci/run (a Go binary); these check what a linter cannot know. The Portainer client
 * is tested in test/portainer.test.ts.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { DEFAULT_REGISTRY_IMAGE } from "../lib/stack-config";
import { pinnedPulumiVersion } from "../scripts/lib/pulumi-cli";
import { renderTeamStack, teamSettings } from "../scripts/render-portainer-compose";
import { workflowCiSteps } from "../tools/job-container";
import { REPO_ROOT, runTsScript } from "./support/cli";

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  "continue-on-error"?: boolean;
  env?: Record<string, string>;
}

const text = readFileSync(path.join(REPO_ROOT, ".gitea/workflows/build.yml"), "utf8");
const workflow = parse(text);
const steps: Step[] = workflow.jobs.build.steps;
const promoteJob = workflow.jobs["promote-prod"];
const promoteSteps: Step[] = promoteJob.steps;
const PROMOTE = "promote-stage-to-prod";
const pathFilters: string[] = workflow.on.push.paths;

function step(name: string): Step {
  const found = steps.find((s) => s.name === name);
  if (!found) throw new Error(`.gitea/workflows/build.yml has no step named "${name}"`);
  return found;
}

const indexOf = (name: string) => steps.indexOf(step(name));

/**
 * Files that do not shape the image or the stack: documentation, tests, CI-local tooling, and
 * offline/ (the toolchain and stand-ins of machines without a registry; Gitea pulls the real images).
 */
const NOT_INPUTS = [/\.md$/, /^test\//, /^e2e\//, /^\.ci\//, /^offline\//, /^vitest(\.e2e)?\.config\.mts$/, /^\.git(ignore|attributes)$/, /^bench\//];

/** A filter pattern as Gitea compiles it (act's workflowpattern): `**\/` any folders, `**` anything, `*` no slash. */
function patternToRegExp(pattern: string): RegExp {
  const source = pattern
    .split(/(\*\*\/|\*\*|\*)/)
    .map((part) => ({ "**/": "(.+/)?", "**": ".*", "*": "[^/]*" })[part] ?? part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join("");
  return new RegExp(`^${source}$`);
}

/** Whether a change to `file` triggers the workflow: the last pattern that matches decides; `!` excludes. */
function triggers(patterns: string[], file: string): boolean {
  let included = false;
  for (const pattern of patterns) {
    const negative = pattern.startsWith("!");
    if (patternToRegExp(negative ? pattern.slice(1) : pattern).test(file)) included = !negative;
  }
  return included;
}

/** The repository's tree: tracked files and new ones not ignored yet (git ls-files --cached --others --exclude-standard). */
const trackedFiles = (): string[] =>
  execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8" }).trim().split("\n");

describe("the Gitea workflow's trigger", () => {
  it("runs on pushes to main and by hand, on ubuntu-22.04", () => {
    expect(workflow.on.push.branches).toEqual(["main"]);
    expect(workflow.on).toHaveProperty("workflow_dispatch");
    expect(workflow.jobs.build["runs-on"]).toBe("ubuntu-22.04");
  });

  it("matches paths as Gitea does (the later pattern wins, ! excludes)", () => {
    const patterns = ["tools/**", "Pulumi*.yaml", "!**/*.md"];
    expect(triggers(patterns, "tools/compose-check/main.go")).toBe(true);
    expect(triggers(patterns, "Pulumi.stage.yaml")).toBe(true);
    expect(triggers(patterns, "sub/Pulumi.stage.yaml")).toBe(false);
    expect(triggers(patterns, "tools/directus-runtime/README.md")).toBe(false);
    expect(triggers(patterns, "README.md")).toBe(false);
    expect(triggers(["**.md", "!README.md"], "docs/a.md")).toBe(true);
  });

  it("covers every file of the tree (git ls-files) that goes into the image or the stack", () => {
    const uncovered = trackedFiles().filter((f) => !NOT_INPUTS.some((re) => re.test(f)) && !triggers(pathFilters, f));
    expect(uncovered, `no paths filter of .gitea/workflows/build.yml covers: ${uncovered.join(", ")}`).toEqual([]);
  });

  it("leaves docs alone: no tracked Markdown file triggers it", () => {
    const docs = trackedFiles().filter((f) => f.endsWith(".md"));
    expect(docs).toContain("README.md");
    const triggering = docs.filter((f) => triggers(pathFilters, f));
    expect(triggering, `docs that would trigger the build: ${triggering.join(", ")}`).toEqual([]);
  });

  it("covers every COPY source of the Dockerfile", () => {
    const dockerfile = readFileSync(path.join(REPO_ROOT, "Dockerfile"), "utf8");
    const sources = [...dockerfile.matchAll(/^COPY(?:\s+--\S+)*\s+(\S+)\s+\S+$/gm)].map((m) => m[1]);
    expect(sources.length).toBeGreaterThan(3);
    const builtFrom = (source: string) => (source.startsWith("dist/image/") ? "scripts/db-init.ts" : `${source.replace(/\/$/, "")}/x`);
    for (const source of sources) {
      const probe = source.endsWith("/") ? builtFrom(source) : source;
      expect(triggers(pathFilters, probe), source).toBe(true);
    }
  });
});

describe("the Gitea workflow's steps", () => {
  it("pushes and redeploys only when every earlier step passed", () => {
    const push = indexOf("Push the image");
    const redeploy = indexOf("Redeploy on Portainer");
    for (const gate of ["Unit and integration tests", "Preview", "Dry-run up", "Smoke check of the seeded Directus", "Destroy the ci stack"]) {
      expect(indexOf(gate), gate).toBeLessThan(push);
    }
    expect(redeploy).toBeGreaterThan(push);
    // A step without `if:` runs only while the job has not failed; `always()` or `failure()` on an
    // earlier step runs that step, it never makes a failed job pass. continue-on-error would.
    for (const s of [steps[push], steps[redeploy]]) expect(s.if, s.name).toBeUndefined();
    for (const s of steps.slice(0, redeploy + 1)) expect(s["continue-on-error"], s.name).toBeUndefined();
    const conditional = steps.filter((s) => s.if !== undefined).map((s) => `${s.name}: ${s.if}`);
    expect(conditional).toEqual(["Container logs: failure()", "Destroy the ci stack: always()"]);
  });

  it("keeps container logs on failure and always destroys the ci stack", () => {
    const logs = step("Container logs");
    expect(logs.run).toContain("docker logs trm-ci-db");
    expect(logs.run).toContain("docker logs trm-ci-directus");
    expect(step("Destroy the ci stack").run).toBe("npm run pulumi -- destroy --stack ci");
  });

  it("gets the Pulumi CLI the project's way: the version package.json pins for @pulumi/pulumi, nowhere else", () => {
    expect(pinnedPulumiVersion()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(text).not.toContain(pinnedPulumiVersion());
    expect(text).not.toMatch(/get\.pulumi\.com|PULUMI_VERSION|\.pulumi\/bin/);
    // scripts/dev.ts --prepare-only brings the CLI (scripts/lib/pulumi-cli.ts) before anything uses it
    expect(step("Prepare the ci stack (Pulumi CLI, local state, generated secrets, free ports)").run).toContain(
      "npx tsx scripts/dev.ts --prepare-only ci",
    );
    const bare = steps.flatMap((s) => (s.run ?? "").split("\n")).filter((line) => /(^|[\s;&|])pulumi\s/.test(line.replace(/npm run pulumi --/g, "")));
    expect(bare, "pulumi runs only through npm run pulumi").toEqual([]);
    expect(step("Preview").run).toBe("npm run pulumi -- preview --stack ci --diff");
    expect(step("Dry-run up").run).toBe("npm run pulumi -- up --stack ci");
  });

  it("takes the registry host from the repository variable REGISTRY_HOST, today's host by default, for the image and the login", () => {
    const [defaultHost, imagePath] = [DEFAULT_REGISTRY_IMAGE.split("/")[0], DEFAULT_REGISTRY_IMAGE.replace(/^[^/]+\//, "").replace(/:main$/, "")];
    expect(workflow.env.REGISTRY_HOST).toBe(`\${{ vars.REGISTRY_HOST || '${defaultHost}' }}`);
    expect(text.split(defaultHost)).toHaveLength(2);
    const push = step("Push the image");
    expect(push.env?.IMAGE).toBe(`\${{ env.REGISTRY_HOST }}/${imagePath}`);
    expect(push.run).toContain('docker login "$REGISTRY_HOST" --username "$REGISTRY_USERNAME" --password-stdin');
    expect(push.run).toContain('docker push "$IMAGE:main"');
    expect(push.run).toContain('docker push "$IMAGE:$GITHUB_SHA"');
  });

  it("redeploys the pushed image through Portainer's API, rendered from the stage stack config", () => {
    const push = step("Push the image");
    const redeploy = step("Redeploy on Portainer");
    expect(push.id).toBe("push");
    expect(push.run).toContain('echo "image=$IMAGE:$GITHUB_SHA" >> "$GITHUB_OUTPUT"');
    expect(redeploy.run).toBe('npm run portainer:stack -- --redeploy "$PUSHED_IMAGE" --health-timeout "$HEALTH_TIMEOUT"');
    expect(redeploy.env).toEqual({
      TRM_STACK: "stage",
      PUSHED_IMAGE: "${{ steps.push.outputs.image }}",
      HEALTH_TIMEOUT: "${{ vars.PORTAINER_HEALTH_TIMEOUT || '300' }}",
      PORTAINER_URL: "${{ secrets.PORTAINER_URL }}",
      PORTAINER_API_KEY: "${{ secrets.PORTAINER_API_KEY }}",
      PORTAINER_ENDPOINT_ID: "${{ secrets.PORTAINER_ENDPOINT_ID }}",
      PORTAINER_STACK_NAME: "${{ vars.PORTAINER_STACK_NAME }}",
      PORTAINER_WEBHOOK_URL: "${{ secrets.PORTAINER_WEBHOOK_URL }}",
      DIRECTUS_TOKEN: "${{ secrets.DIRECTUS_TOKEN }}",
    });
    expectComposePortainerCanPull("stage");
  });

  it("says so and passes when no Portainer setting is given (Gitea passes a missing secret as \"\")", async () => {
    const unset = { PORTAINER_URL: "", PORTAINER_API_KEY: "", PORTAINER_ENDPOINT_ID: "", PORTAINER_STACK_NAME: "", PORTAINER_WEBHOOK_URL: "" };
    const skipped = await runTsScript("scripts/portainer-stack.ts", ["--redeploy", `${DEFAULT_REGISTRY_IMAGE}`], { ...unset, TRM_STACK: "stage" });
    expect(skipped.code, skipped.output).toBe(0);
    expect(skipped.stdout).toMatch(/portainer: no Portainer settings .*: nothing redeployed/);

    const partial = await runTsScript("scripts/portainer-stack.ts", ["--redeploy", `${DEFAULT_REGISTRY_IMAGE}`], { ...unset, PORTAINER_URL: "https://p.example", TRM_STACK: "stage" }); // as the step sets it (the job's env says ci)
    expect(partial.code).toBe(1);
    expect(partial.stderr).toMatch(/portainer: ERROR with PORTAINER_URL set, also set PORTAINER_API_KEY, PORTAINER_ENDPOINT_ID/);
  });

  it("never puts a secret on a command line or in the log", () => {
    for (const s of [...steps, ...promoteSteps]) {
      expect(s.run ?? "", s.name).not.toMatch(/\$\{\{\s*secrets\./);
      expect(s.run ?? "", s.name).not.toMatch(/echo[^\n]*\$\{?[A-Z_]*(PASSWORD|TOKEN|SECRET|WEBHOOK|API_KEY)/);
    }
    const push = step("Push the image");
    expect(push.run).toContain("--password-stdin");
    expect(push.env?.REGISTRY_PASSWORD).toBe("${{ secrets.REGISTRY_PASSWORD }}");
  });
});

describe("the build job's container: it runs where act_runner puts a job by default", () => {
  const job = workflow.jobs.build;
  const setupNode = steps.find((s) => s.uses === "actions/setup-node@v4") as Step & { with: { "node-version": string } };

  it("names a Debian image with the Node version setup-node pins, the one the local job image (offline/ci-job) holds", () => {
    const pinned = setupNode.with["node-version"];
    expect(job.container).toEqual({ image: `node:${pinned}-bookworm` });
    const standins = readFileSync(path.join(REPO_ROOT, "offline/standins/build.sh"), "utf8");
    expect(standins).toContain(`NODE_VERSION="${pinned}"`); // offline/ci-job/build.sh reads its pin there
    expect(readFileSync(path.join(REPO_ROOT, "offline/ci-job/Dockerfile"), "utf8")).toContain(`FROM trm-standin/debian:bookworm`);
  });

  it("mounts no socket of its own and starts no service: act_runner mounts the socket (a second mount fails), the program makes the database", () => {
    expect(job.services).toBeUndefined();
    expect(JSON.stringify(job.container)).not.toMatch(/docker\.sock|--network|privileged/);
  });

  it("has the Docker CLI before anything uses Docker, from Debian's docker.io only when the image lacks it, and fails saying what the runner must give", () => {
    const cli = indexOf("Docker CLI");
    const usesDocker = steps.map((s, i) => [i, `${s.run ?? ""}`] as const).filter(([, run]) => /\bdocker\b|dev\.ts|npm run pulumi --/.test(run) && !run.includes("command -v docker"));
    expect(usesDocker.length).toBeGreaterThan(3);
    for (const [i] of usesDocker) expect(i, steps[i].name).toBeGreaterThan(cli);
    expect(step("Docker CLI").run).toMatch(/if ! command -v docker[\s\S]*apt-get install -y -qq --no-install-recommends docker\.io/);
    expect(step("Docker CLI").run).toMatch(/docker version[\s\S]*docs\/delivery\.md[\s\S]*exit 1/);
  });

  it("leaves the ci stack to decide how to reach its containers where it runs (reachContainersBy auto)", () => {
    expect(teamSettings("ci").reachContainersBy).toBeUndefined();
  });

  it("is what tools/job-container.ts runs in a job container here: the same step commands, on a stack of its own name", () => {
    const ci = workflowCiSteps("ci");
    expect(ci.map((s) => s.run)).toEqual(
      ["Prepare the ci stack (Pulumi CLI, local state, generated secrets, free ports)", "Preview", "Dry-run up", "Smoke check of the seeded Directus", "Container logs", "Destroy the ci stack"].map((n) => step(n).run),
    );
    expect(workflowCiSteps("job-ci").map((s) => s.run).join("\n")).not.toMatch(/(--stack |--prepare-only |ci-ports\.ts )ci\b|trm-ci-/);
  });
});

describe("the promote-prod job (by hand: prod gets the image stage runs)", () => {
  const promoteStep = () => {
    const found = promoteSteps.find((s) => s.name === "Promote stage's Directus to prod");
    if (!found) throw new Error(`.gitea/workflows/build.yml's promote-prod job has no step "Promote stage's Directus to prod"`);
    return found;
  };

  it("runs only when started by hand with action promote-stage-to-prod, and then the build job does not", () => {
    const input = workflow.on.workflow_dispatch.inputs.action;
    expect(input).toMatchObject({ type: "choice", options: ["build", PROMOTE], default: "build" });
    expect(promoteJob.if).toBe(`github.event_name == 'workflow_dispatch' && github.event.inputs.action == '${PROMOTE}'`);
    expect(workflow.jobs.build.if).toBe(`github.event.inputs.action != '${PROMOTE}'`);
    expect(Object.keys(workflow.jobs).sort()).toEqual(["build", "promote-prod"]);
  });

  it("builds, pushes and tests nothing: checkout, Node, npm ci, then the promotion", () => {
    expect(promoteSteps.map((s) => s.uses ?? s.name)).toEqual(["actions/checkout@v4", "actions/setup-node@v4", "Install dependencies", "Promote stage's Directus to prod"]);
    const runs = promoteSteps.map((s) => s.run ?? "").join("\n");
    expect(runs).not.toMatch(/docker (build|push|tag)|build:image|pulumi -- (up|preview)/);
    expect(promoteJob.needs).toBeUndefined();
  });

  it("redeploys prod (TRM_STACK=prod, its own PROD_ settings) with stage's running image, through the same health gate and seed", () => {
    const promote = promoteStep();
    expect(promote.run).toContain('npm run portainer:stack -- --promote --health-timeout "$HEALTH_TIMEOUT"');
    expect(promote.env).toEqual({
      TRM_STACK: "prod",
      HEALTH_TIMEOUT: "${{ vars.PORTAINER_HEALTH_TIMEOUT || '300' }}",
      // stage's Portainer: read only, for the image its stack runs
      PORTAINER_URL: "${{ secrets.PORTAINER_URL }}",
      PORTAINER_API_KEY: "${{ secrets.PORTAINER_API_KEY }}",
      PORTAINER_ENDPOINT_ID: "${{ secrets.PORTAINER_ENDPOINT_ID }}",
      PORTAINER_STACK_NAME: "${{ vars.PORTAINER_STACK_NAME }}",
      PROD_PORTAINER_URL: "${{ secrets.PROD_PORTAINER_URL }}",
      PROD_PORTAINER_API_KEY: "${{ secrets.PROD_PORTAINER_API_KEY }}",
      PROD_PORTAINER_ENDPOINT_ID: "${{ secrets.PROD_PORTAINER_ENDPOINT_ID }}",
      PROD_PORTAINER_STACK_NAME: "${{ vars.PROD_PORTAINER_STACK_NAME }}",
      DIRECTUS_TOKEN: "${{ secrets.PROD_DIRECTUS_TOKEN }}",
    });
    expectComposePortainerCanPull("prod");
  });

  it("fails, naming the settings, when prod's Portainer settings are missing (a promotion asked for is never skipped)", async () => {
    const unset = { PROD_PORTAINER_URL: "", PROD_PORTAINER_API_KEY: "", PROD_PORTAINER_ENDPOINT_ID: "", PROD_PORTAINER_STACK_NAME: "" };
    const stage = { PORTAINER_URL: "https://stage-portainer.example", PORTAINER_API_KEY: "ptr_x", PORTAINER_ENDPOINT_ID: "1" };
    const result = await runTsScript("scripts/portainer-stack.ts", ["--promote"], { ...unset, ...stage, TRM_STACK: "prod" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/portainer: ERROR --promote needs stage's PORTAINER_URL, PORTAINER_API_KEY, PORTAINER_ENDPOINT_ID and prod's PROD_PORTAINER_URL, PROD_PORTAINER_API_KEY, PROD_PORTAINER_ENDPOINT_ID/);
  });
});

/** The stack config validates and renders a compose file Portainer can pull: registry images, no local build. */
function expectComposePortainerCanPull(stack: string): void {
  const compose = parse(renderTeamStack(stack).compose);
  for (const [name, service] of Object.entries<any>(compose.services)) {
    expect(service.build, name).toBeUndefined();
    expect(service.image, name).toMatch(/\//);
  }
}
