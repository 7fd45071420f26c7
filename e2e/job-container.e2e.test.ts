/**
 * The ci operations from inside a job container, as Gitea's act_runner runs a job by default: a
 * container on a network of its own with the Docker socket mounted (tools/job-container.ts, the local
 * job image of offline/ci-job: Node 22, npm, the Docker CLI). There 127.0.0.1 is the job container,
 * so the program must join the stack's network and reach the containers by name (reachContainersBy
 * auto). Plugin-free: the engine e2e's program (e2e/engine-program.ts: migrations and seed, the same
 * StackAccess as index.ts) against a database and our Directus image started with plain Docker:
 * `up` → a second `up` changes nothing → `npm run stack -- smoke` through the stack's outputs →
 * `destroy`, which leaves the network again. The whole program the same way: tools/job-container.ts.
 */
import { readItems } from "@directus/sdk";
import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDirectus } from "../lib/directus-client";
import { dockerOrThrow } from "../scripts/lib/docker";
import { readOutputs } from "../scripts/lib/stack";
import { buildJobImage, networksOf, startJobContainer, type JobContainer, type StepResult } from "../tools/job-container";
import type { DockerStack } from "../tools/plain-docker-stack";
import { bootImageAndContainers, changes, engineStack, timerInto, type EngineStack } from "./support";

const STACK = "jobc";
/** The containers' prefix: the program's (trm-<stack>), so it finds them by name on trm-jobc-net. */
const PREFIX = `trm-${STACK}`;
const IMAGE = "trm-directus:jobc-e2e";
const ADMIN_EMAIL = "ci@trm.dev";
const timings: Record<string, number> = {};
const timed = timerInto(timings);
const log = (line: string) => console.log(`job-container e2e: ${line}`);

let target: EngineStack;
let containers: DockerStack;
let job: JobContainer;
let jobImage: string;
/** What reachContainersBy auto decides where it runs, as the program's line says it. */
const DECIDE = `npx tsx -e 'const r = require("./lib/reach"); const d = r.decideReach("auto", r.probeProgramHost()); console.log(d.reach ? d.reach.line : d.problem)'`;

/** `npm run pulumi -- <operation>` of the engine program, in the job container. */
async function pulumiInJob(operation: string, flags: string[] = []): Promise<StepResult & { changeSummary: Record<string, number> }> {
  const resultFile = path.join(target.project, `.pulumi-state/${operation}-result.json`);
  const step = await job.exec(`npm run --silent pulumi -- ${operation} --stack ${STACK} --program e2e/engine-program.ts --result ${resultFile} ${flags.join(" ")}`);
  if (step.code !== 0) throw new Error(`${operation} in the job container failed (exit ${step.code}):\n${step.output}`);
  return { ...step, changeSummary: JSON.parse(readFileSync(resultFile, "utf8")).changeSummary };
}

async function classNames(): Promise<string[]> {
  const client = await connectDirectus(containers.directusUrl, { email: ADMIN_EMAIL, password: target.secrets.adminPassword });
  return ((await client.request(readItems("classes", { fields: ["code"], limit: -1 }))) as { code: string }[]).map((c) => c.code);
}

beforeAll(async () => {
  target = await engineStack(STACK, {}, log, timings);
  containers = await bootImageAndContainers(target, { prefix: PREFIX, image: IMAGE, adminEmail: ADMIN_EMAIL }, timings);
  jobImage = await timed("jobImage", buildJobImage);
  job = await timed("jobContainerStart", async () =>
    startJobContainer({
      name: `${PREFIX}-job`,
      image: jobImage,
      workspace: target.project,
      pulumiBinDir: path.dirname(target.pulumi.command.command),
      env: { PULUMI_BACKEND_URL: target.env.PULUMI_BACKEND_URL!, PULUMI_CONFIG_PASSPHRASE_FILE: target.env.PULUMI_CONFIG_PASSPHRASE_FILE!, PULUMI_SKIP_UPDATE_CHECK: "true", TRM_STACK: STACK },
    }),
  );
}, 60 * 60_000);

afterAll(async () => {
  if (job && target) await pulumiInJob("destroy").catch((error: Error) => log(`destroy after the suite: ${error.message}`));
  job?.remove();
  containers?.remove();
  log(`timings (s): ${JSON.stringify(timings)}`);
});

describe("the ci operations from inside a job container (its own network, the Docker socket)", () => {
  it("the job container has Node 22, the Docker CLI and the socket, on its own network only", async () => {
    const tools = await job.exec("node --version; docker version --format '{{.Client.Version}} {{.Server.Version}}'; command -v git curl apt-get gcc || true");
    expect(tools.code, tools.output).toBe(0);
    expect(tools.output).toMatch(/^v22\.\d+\.\d+\n\d+\.\d+\.\d+\S* \d+\.\d+\.\d+/);
    expect(tools.output).not.toMatch(/\/(git|curl|gcc)\n/); // nothing else of a build machine
    expect(networksOf(job.name)).toEqual([job.network]);
    const mounts = JSON.parse(dockerOrThrow(["inspect", "--format", "{{json .Mounts}}", job.name])) as { Destination: string }[];
    expect(mounts.map((m) => m.Destination)).toContain("/var/run/docker.sock");
  });

  it("where the job container is on the host's network (act_runner container.network: host), auto picks the published ports", async () => {
    const onHost = startJobContainer({ name: `${PREFIX}-hostjob`, hostNetwork: true, image: jobImage, workspace: target.project, pulumiBinDir: path.dirname(target.pulumi.command.command) });
    try {
      const [inOwn, inHost] = [await job.exec(DECIDE), await onHost.exec(DECIDE)];
      expect(inOwn.output).toContain(`reach: the stack's containers by name on its Docker network, which this container (${job.name}) joins (auto:`);
      expect(inHost.output).toContain(`reach: the stack's containers at 127.0.0.1:<published port> (auto: it runs in container ${PREFIX}-hostjob on the host's network)`);
    } finally {
      onHost.remove();
    }
  });

  it("pulumi up joins the stack's network, migrates and seeds by container name (auto: it says so in one line)", async () => {
    const up = await timed("up", () => pulumiInJob("up"));
    expect(changes(up.changeSummary)).toEqual({ create: 8 }); // the stack, StackAccess and its join, two ServiceReady, two migration resources, the seed
    expect(up.output).toContain(`reach: the stack's containers by name on its Docker network, which this container (${job.name}) joins (auto:`);
    expect(networksOf(job.name).sort()).toEqual([job.network, `${PREFIX}-net`].sort());
    const outputs = await readOutputs<Record<string, unknown>>(target.stack);
    expect(outputs).toMatchObject({ reach: "docker-network", directusUrl: `http://${PREFIX}-directus:8055`, databaseHost: `${PREFIX}-db`, databasePort: 5432 });
    expect(outputs.seededCounts).toMatchObject({ classes: 18, entries: 1 });
    // read back from here, through the published ports
    const client = new pg.Client(containers.db);
    await client.connect();
    try {
      expect((await client.query("SELECT count(*)::int AS n FROM migrations_applied")).rows[0].n).toBe(11);
    } finally {
      await client.end();
    }
    expect(await classNames()).toHaveLength(18);
  });

  it("a second pulumi up changes nothing (the join included)", async () => {
    const again = await timed("noopUp", () => pulumiInJob("up", ["--expect-no-changes"]));
    expect(changes(again.changeSummary)).toEqual({});
  });

  it("npm run stack -- smoke passes in the job container, through the stack's outputs", async () => {
    const smoke = await timed("smoke", () => job.exec("npm run --silent stack -- smoke"));
    expect(smoke.code, smoke.output).toBe(0);
    expect(smoke.output).toContain("smoke: all checks passed");
  });

  it("pulumi destroy removes the seeded items through Directus, then leaves the stack's network", async () => {
    const destroy = await timed("destroy", () => pulumiInJob("destroy"));
    expect(changes(destroy.changeSummary)).toEqual({ delete: 8 });
    expect(networksOf(job.name)).toEqual([job.network]);
    expect(await classNames()).toEqual([]);
    expect((await target.stack.exportStack()).deployment.resources ?? []).toEqual([]);
  });
});
