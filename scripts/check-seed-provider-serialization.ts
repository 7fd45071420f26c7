/**
 * Proves the DirectusSeed dynamic provider survives Pulumi's closure serialization, outside vitest
 * (whose transforms break that path). Run it as Pulumi's language host runs a program:
 *   node -r ts-node/register/transpile-only scripts/check-seed-provider-serialization.ts [directus-url token seed-file]
 * It serializes the provider with runtime.serializeFunction exactly as pulumi.dynamic.Resource does,
 * loads the text in a fresh plain `node` (no ts-node, no vitest) the way the dynamic provider host
 * does (require-from-string(...).handler()), calls check/diff there, and with a URL and token also
 * create/read/update/delete against that Directus. Prints one JSON report on stdout.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runtime } from "@pulumi/pulumi";
import { directusSeedProvider } from "../components/seed";
import { loadSeedFile } from "../lib/seed/data";
import { seedRecord, writeItemsFile } from "../lib/seed/record";

const HOST_SCRIPT = `
const provider = require("require-from-string")(require("fs").readFileSync(process.argv[1], "utf8")).handler();
const [url, token, inputsFile] = process.argv.slice(2);
const { inputs: recorded, renamed } = JSON.parse(require("fs").readFileSync(inputsFile, "utf8"));
(async () => {
  const inputs = { ...recorded, url: url || "http://127.0.0.1:1", credentials: { token: token || "unused" } };
  const report = { methods: Object.keys(provider).sort() };
  report.check = await provider.check({}, inputs);
  report.diffSame = await provider.diff("x", inputs, inputs);
  report.diffRenamed = await provider.diff("x", inputs, { ...inputs, collections: renamed });
  if (url) {
    const created = (await provider.create(inputs)).outs;
    report.create = created.counts;
    report.stateBytes = JSON.stringify(created).length;
    report.read = (await provider.read("x", created)).props.counts;
    report.update = (await provider.update("x", created, inputs)).outs.counts;
    await provider.delete("x", created);
    report.deleted = true;
  }
  console.log(JSON.stringify(report));
})().catch((e) => { console.error(e.stack || e); process.exit(1); });
`;

async function main(): Promise<void> {
  const [url = "", token = "", seedFile = path.resolve(__dirname, "..", "seed", "rally-albania-2026.yaml")] = process.argv.slice(2);
  const serialized = await runtime.serializeFunction(() => directusSeedProvider, { allowSecrets: true });
  const dir = mkdtempSync(path.join(os.tmpdir(), "trm-seed-provider-"));
  const providerFile = path.join(dir, "provider.js");
  writeFileSync(providerFile, serialized.text);
  const items = loadSeedFile(seedFile);
  const inputs = { source: path.basename(seedFile), itemsFile: writeItemsFile(items), maxPayloadSize: "1mb", collections: seedRecord(items) };
  const firstClass = Object.keys(items.classes)[0];
  if (firstClass) items.classes[firstClass].name += " (renamed)";
  const inputsFile = path.join(dir, "inputs.json");
  writeFileSync(inputsFile, JSON.stringify({ inputs, renamed: seedRecord(items) }));
  const output = execFileSync(process.execPath, ["-e", HOST_SCRIPT, providerFile, url, token, inputsFile], {
    cwd: path.resolve(__dirname, ".."),
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  const report = JSON.parse(output.trim().split("\n").pop()!);
  console.log(JSON.stringify({ ...report, serializedBytes: serialized.text.length, containsSecrets: serialized.containsSecrets, providerFile }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
