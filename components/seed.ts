import * as pulumi from "@pulumi/pulumi";
import { connectDirectus, type DirectusCredentials } from "../lib/directus-client";
import { readExisting, seedDirectus } from "../lib/seed/apply";
import { emptyState, type SeedState } from "../lib/seed/model";
import { changedCollections, observedRecord, packKeys, readItemsFile, seedRecord, unpackKeys, writeItemsFile, type SeedRecord } from "../lib/seed/record";
import { DIRECTUS_DEFAULT_MAX_PAYLOAD_SIZE, parseByteSize } from "../lib/seed/requests";
import { plainError } from "../lib/plain-error";
import { DynamicResource, dynamicProvider } from "../lib/dynamic-resource";

export interface DirectusSeedArgs {
  /** Directus base URL reachable from where Pulumi runs. */
  url: pulumi.Input<string>;
  /** An admin static token or email/password: stored encrypted in state, never in the provider's code. */
  credentials: pulumi.Input<DirectusCredentials>;
  /** The loaded seed file (lib/seed/data.ts loadSeedFile of `source`): only its record goes into the state. */
  items: pulumi.Input<SeedState>;
  /** The seed file, for messages. */
  source: pulumi.Input<string>;
  /** The Directus service's MAX_PAYLOAD_SIZE (default Directus's "1mb"): no request is larger. */
  maxPayloadSize?: pulumi.Input<string>;
}

interface SeedInputs {
  url: string;
  credentials: DirectusCredentials;
  source: string;
  /** The checked items, handed from the program to the provider beside the state (lib/seed/record.ts writeItemsFile). */
  itemsFile: string;
  maxPayloadSize: string;
  /** Per collection: item count and content digest. `pulumi preview --diff` names the collections that change. */
  collections: SeedRecord;
}

interface SeedOutputs extends SeedInputs {
  /** Items per collection the seed holds in Directus (created or adopted by natural key). */
  counts: Record<string, number>;
  /** The natural keys the seed owns, gzipped (lib/seed/record.ts): what a later update or delete may remove. */
  ownedKeys: string;
}

/**
 * The seed as a Pulumi dynamic provider: a thin adapter over lib/seed. The state holds a record per
 * collection (count and digest) and the owned keys packed, never every item: the program hands the
 * checked items over in a file beside the state, which the provider checks against the record.
 * Everything the methods use is imported, not captured from the program, so credentials never end
 * up in the serialized provider; they travel as a secret input.
 */
export const directusSeedProvider = dynamicProvider<SeedInputs, SeedOutputs>({
  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (!news.url) failures.push({ property: "url", reason: "the Directus URL is required" });
    if (!news.collections) failures.push({ property: "collections", reason: "the seed's record is missing: pass the loaded seed file as items" });
    try {
      parseByteSize(news.maxPayloadSize);
    } catch (error) {
      failures.push({ property: "maxPayloadSize", reason: (error as Error).message });
    }
    return { inputs: news, failures };
  },

  /** Local (no network): the URL or a collection's record changed. */
  async diff(_id, olds, news) {
    const changed = olds.url !== news.url || changedCollections(olds.collections ?? ({} as SeedRecord), news.collections).length > 0;
    return { changes: changed, replaces: [], deleteBeforeReplace: false };
  },

  /**
   * `pulumi refresh`: the record of the seeded items as Directus holds them now (edited values,
   * deleted items), so the next `up` restores them. An unreachable Directus is an error, never an empty seed.
   */
  async read(id, props) {
    if (!props) throw new Error(`${id}: a seed cannot be imported, only created by the program`);
    const existing = await connectDirectus(props.url, props.credentials)
      .then(readExisting)
      .catch((error: unknown) => {
        throw new Error(`cannot read the seed back from Directus at ${props.url}: ${plainError(error).message}. ` +
          "Start the stack (npm run dev) and refresh again; the state was left as it was");
      });
    const collections = observedRecord(unpackKeys(props.ownedKeys), existing);
    const { counts: _counts, ownedKeys: _keys, ...inputs } = props;
    // Inputs too: `pulumi preview --refresh --diff` then shows each drifted collection.
    // (the SDK types `inputs` as the outputs; they are the inputs, without the computed fields)
    return { id, props: { ...props, collections, counts: countsOf(collections) }, inputs: { ...inputs, collections } as SeedOutputs };
  },

  async create(inputs) {
    return { id: `seed:${inputs.source}`, outs: await seed(inputs, undefined) };
  },

  async update(_id, olds, news) {
    return { outs: await seed(news, ownedBy(olds)) };
  },

  async delete(_id, props) {
    await write(props, emptyState(), ownedBy(props));
  },
});

/** Reads the items the program checked, makes sure they are the ones recorded, and seeds them. */
async function seed(inputs: SeedInputs, previous: SeedState | undefined): Promise<SeedOutputs> {
  let desired: SeedState;
  try {
    desired = readItemsFile(inputs.itemsFile);
  } catch (error) {
    throw new Error(`cannot read the seed's items from ${inputs.itemsFile} (${plainError(error).message}): run \`pulumi up\` again, which writes it`);
  }
  const changed = changedCollections(inputs.collections, seedRecord(desired));
  if (changed.length > 0) {
    throw new Error(`${inputs.source} changed while \`pulumi up\` ran (${changed.join(", ")} differ from what the program read): run \`pulumi up\` again`);
  }
  await write(inputs, desired, previous);
  return { ...inputs, counts: countsOf(inputs.collections), ownedKeys: packKeys(desired) };
}

async function write(inputs: SeedInputs, desired: SeedState, previous: SeedState | undefined): Promise<void> {
  // The dynamic provider host has no engine connection, so pulumi.log prints to its stdout, which the engine shows as info lines.
  const log = (line: string) => pulumi.log.info(line);
  const limits = { maxBodyBytes: parseByteSize(inputs.maxPayloadSize) };
  const { counts: planned } = await connectDirectus(inputs.url, inputs.credentials)
    .then((client) => seedDirectus({ client, desired, previous, limits, log, planLines: 20 }))
    .catch((error: unknown) => {
      throw plainError(error);
    });
  if (planned.kept > 0) {
    pulumi.log.warn(`${planned.kept} item(s) the seed no longer wants are still referenced by hand-made items and were kept`);
  }
}

/** What the seed owned: its packed keys, or, in a state written before they existed, every item it held. */
function ownedBy(outputs: SeedOutputs & { items?: SeedState }): SeedState {
  return outputs.ownedKeys ? unpackKeys(outputs.ownedKeys) : (outputs.items ?? emptyState());
}

function countsOf(collections: SeedRecord): Record<string, number> {
  return Object.fromEntries(Object.entries(collections).map(([name, record]) => [name, record.count]));
}

export class DirectusSeed extends DynamicResource {
  declare readonly counts: pulumi.Output<Record<string, number>>;

  constructor(name: string, args: DirectusSeedArgs, opts?: pulumi.CustomResourceOptions) {
    const { items, source, maxPayloadSize, ...rest } = args;
    const record = pulumi.output(items).apply((state) => seedRecord(state as SeedState));
    super(
      directusSeedProvider,
      name,
      {
        ...rest,
        source,
        maxPayloadSize: maxPayloadSize ?? DIRECTUS_DEFAULT_MAX_PAYLOAD_SIZE,
        collections: record,
        itemsFile: pulumi.all([items, record]).apply(([state, r]) => writeItemsFile(state as SeedState, r)),
        credentials: pulumi.secret(args.credentials),
        counts: undefined,
        ownedKeys: undefined,
      },
      { ...opts, additionalSecretOutputs: ["credentials"] },
    );
  }
}
