/**
 * A full garbage collection between the seed's phases (load, plan, each dependency level). V8 grows
 * its heap well past the live data before it collects: a 10,000-entry seed holds ~250 MB live but
 * peaked at ~600 MB RSS without these; collecting where a phase's garbage is known to be dead keeps
 * the peak near the largest phase. Costs ~0.1-0.3 s each on a heap of that size.
 */
// Named imports: a default import of a builtin does not survive Pulumi's closure serialization of
// the seed provider when the program runs under tsx (esbuild's interop object loses `default`).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}
