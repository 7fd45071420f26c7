import * as pulumi from "@pulumi/pulumi";
import { connectDirectus, type DirectusCredentials } from "../lib/directus-client";
import { readExisting, seedDirectus } from "../lib/seed/apply";
import { diffSeedStates, observeSeedState } from "../lib/seed/diff";
import { COLLECTIONS, emptyState, type SeedState } from "../lib/seed/model";
import { plainError } from "../lib/plain-error";

export interface DirectusSeedArgs {
  /** Directus base URL reachable from where Pulumi runs. */
  url: pulumi.Input<string>;
  /** An admin static token or email/password: stored encrypted in state, never in the provider's code. */
  credentials: pulumi.Input<DirectusCredentials>;
  /** Desired items by collection and natural key (lib/seed/data.ts toSeedState of the seed file). */
  items: pulumi.Input<SeedState>;
  /** The seed file, for messages. */
  source: pulumi.Input<string>;
}

interface SeedInputs {
  url: string;
  credentials: DirectusCredentials;
  items: SeedState;
  source: string;
}

interface SeedOutputs extends SeedInputs {
  /** Items per collection the seed holds in Directus (created or adopted by natural key). */
  counts: Record<string, number>;
}

/**
 * The seed as a Pulumi dynamic provider: a thin adapter over lib/seed. Inputs hold the desired items
 * by collection and natural key, so `pulumi preview --diff` names exactly the items and fields that change.
 * Everything the methods use is imported, not captured from the program, so credentials never end
 * up in the serialized provider; they travel as a secret input.
 */
export const directusSeedProvider: pulumi.dynamic.ResourceProvider<SeedInputs, SeedOutputs> = {
  async check(_olds, news) {
    const failures = danglingReferences(news.items).map((reason) => ({ property: "items", reason }));
    if (!news.url) failures.push({ property: "url", reason: "the Directus URL is required" });
    return { inputs: news, failures };
  },

  /** Local (no network): old vs new desired items. Pulumi shows the changed leaves, items.<collection>["<key>"].<field>. */
  async diff(_id, olds, news) {
    const changed = olds.url !== news.url || diffSeedStates(olds.items ?? emptyState(), news.items).length > 0;
    return { changes: changed, replaces: [], deleteBeforeReplace: false };
  },

  /**
   * `pulumi refresh`: the seeded items as Directus holds them now (edited values, deleted items), so the
   * next `up` restores exactly those. An unreachable Directus is an error, never an empty seed.
   */
  async read(id, props) {
    if (!props) throw new Error(`${id}: a seed cannot be imported, only created by the program`);
    const existing = await connectDirectus(props.url, props.credentials)
      .then(readExisting)
      .catch((error: unknown) => {
        throw new Error(`cannot read the seed back from Directus at ${props.url}: ${plainError(error).message}. ` +
          "Start the stack (npm run dev) and refresh again; the state was left as it was");
      });
    const items = observeSeedState(props.items, existing);
    const { counts: _counts, ...inputs } = props;
    // Inputs too: `pulumi preview --refresh --diff` then shows each drifted item and field.
    // (the SDK types `inputs` as the outputs; they are the inputs, without the computed counts)
    return { id, props: { ...props, items, counts: countItems(items) }, inputs: { ...inputs, items } as SeedOutputs };
  },

  async create(inputs) {
    const outs = await seed(inputs, undefined);
    return { id: `seed:${inputs.source}`, outs };
  },

  async update(_id, olds, news) {
    return { outs: await seed(news, olds.items) };
  },

  async delete(_id, props) {
    await seed({ ...props, items: emptyState() }, props.items);
  },
};

async function seed(inputs: SeedInputs, previous: SeedState | undefined): Promise<SeedOutputs> {
  const log = (line: string) => pulumi.log.info(line);
  const { counts: planned } = await connectDirectus(inputs.url, inputs.credentials)
    .then((client) => seedDirectus({ client, desired: inputs.items, previous, log }))
    .catch((error: unknown) => {
      throw plainError(error);
    });
  if (planned.kept > 0) {
    pulumi.log.warn(`${planned.kept} item(s) the seed no longer wants are still referenced by hand-made items and were kept`);
  }
  return { ...inputs, counts: countItems(inputs.items) };
}

function countItems(items: SeedState): Record<string, number> {
  return Object.fromEntries(Object.entries(items).map(([collection, byKey]) => [collection, Object.keys(byKey).length]));
}

/** Every ref must name an item of the desired state (the seed file validator guarantees it; hand-edited inputs may not). */
function danglingReferences(items: SeedState): string[] {
  const problems: string[] = [];
  for (const spec of COLLECTIONS) {
    for (const [key, values] of Object.entries(items[spec.name] ?? {})) {
      for (const [field, ref] of Object.entries(spec.refs)) {
        const target = values[field];
        if (target != null && !(String(target) in (items[ref.collection] ?? {}))) {
          problems.push(`${spec.name} ${key}: ${field} "${target}" is not a seeded ${ref.collection} item`);
        }
      }
    }
  }
  return problems;
}

export class DirectusSeed extends pulumi.dynamic.Resource {
  declare readonly counts: pulumi.Output<Record<string, number>>;

  constructor(name: string, args: DirectusSeedArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      directusSeedProvider,
      name,
      { ...args, credentials: pulumi.secret(args.credentials), counts: undefined },
      { ...opts, additionalSecretOutputs: ["credentials"] },
    );
  }
}
