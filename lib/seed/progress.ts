/**
 * Progress of a seed's writes, per collection and action: items written out of the total and the
 * rate, at most one line every `intervalMs` per collection and action, and always when one finishes.
 * (Plain closures, no class: the Pulumi dynamic provider serializes this code with its closure.)
 */
import type { WriteAction } from "./errors";

export interface SeedProgress {
  /** Declares the work of one collection and action before its first request. */
  expect(collection: string, action: WriteAction, total: number): void;
  /** A request of this collection and action is sent: the rate counts from the first one. */
  sending(collection: string, action: WriteAction): void;
  /** Counts items a finished request wrote; logs a line when the interval has passed or the work is done. */
  wrote(collection: string, action: WriteAction, items: number): void;
}

export function seedProgress(log: (line: string) => void, intervalMs = 2000, now: () => number = () => performance.now()): SeedProgress {
  const state = new Map<string, { done: number; total: number; started?: number; lastLine: number }>();
  return {
    expect(collection, action, total) {
      state.set(`${collection} ${action}`, { done: 0, total, lastLine: 0 });
    },
    sending(collection, action) {
      const s = state.get(`${collection} ${action}`);
      if (s && s.started === undefined) s.started = s.lastLine = now();
    },
    wrote(collection, action, items) {
      const s = state.get(`${collection} ${action}`);
      if (!s) return;
      s.done += items;
      const at = now();
      if (s.done < s.total && at - s.lastLine < intervalMs) return;
      s.lastLine = at;
      const seconds = (at - (s.started ?? at)) / 1000;
      const rate = seconds > 0 ? Math.round(s.done / seconds) : s.done;
      log(`seed: ${collection} ${s.done}/${s.total} ${action}d (${rate} items/s${s.done === s.total ? `, ${seconds.toFixed(1)} s` : ""})`);
    },
  };
}
