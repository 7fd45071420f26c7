/**
 * Dynamic resources (pulumi.dynamic.Resource, exactly: the same type token, the same serialized
 * provider under `__provider`) whose providers can be serialized before the program needs them.
 *
 * pulumi.dynamic.Resource serializes its provider when the resource is constructed: Pulumi's closure
 * serializer walks the provider's code on this thread (0.1-0.3 s a provider, more for the first
 * one), and every provider constructed meanwhile interleaves with it. A resource the whole `up` waits
 * on (the stack's network, the database's readiness) then waited for providers registered after it.
 * Here each provider is serialized once per process, and `serializeProvidersAhead` does them all, one
 * after the other, while the scripts' CLI calls before an operation run (scripts/lib/stack.ts).
 */
import * as pulumi from "@pulumi/pulumi";

type Serialized = { text: string; containsSecrets: boolean };

/** Every provider a loaded module declared, in declaration order. */
const declared: pulumi.dynamic.ResourceProvider[] = [];
const serialized = new Map<pulumi.dynamic.ResourceProvider, Promise<Serialized>>();

/** Declares a dynamic provider: `serializeProvidersAhead` serializes it. */
export function dynamicProvider<I, O>(provider: pulumi.dynamic.ResourceProvider<I, O>): pulumi.dynamic.ResourceProvider<I, O> {
  declared.push(provider as pulumi.dynamic.ResourceProvider);
  return provider;
}

function serialize(provider: pulumi.dynamic.ResourceProvider): Promise<Serialized> {
  let done = serialized.get(provider);
  if (!done) {
    // the closure pulumi.dynamic.Resource serializes, so the state records the same text
    done = pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    serialized.set(provider, done);
  }
  return done;
}

/** Serializes every declared provider, one at a time; errors are left for the resources to report. */
export async function serializeProvidersAhead(): Promise<void> {
  for (const provider of declared) await serialize(provider).catch(() => undefined);
}

/** A dynamic resource, as pulumi.dynamic.Resource registers it, its provider serialized once per process. */
export class DynamicResource extends pulumi.CustomResource {
  constructor(
    provider: pulumi.dynamic.ResourceProvider,
    name: string,
    props: pulumi.Inputs,
    opts?: pulumi.CustomResourceOptions,
    module?: string,
    type = "Resource",
  ) {
    if (props.__provider) throw new Error("A dynamic resource must not define the __provider key");
    const text = pulumi.output(serialize(provider)).apply((s) => (s.containsSecrets ? pulumi.secret(s.text) : s.text));
    super(`pulumi-nodejs:dynamic${module ? `/${module}` : ""}:${type}`, name, { ...props, __provider: text }, opts);
  }
}
