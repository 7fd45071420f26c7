/**
 * Why a seed write failed, told apart: Directus refused the data (fix the seed file), or a server
 * limit stopped the request (raise the setting, or send smaller requests). Both say what this run
 * had already written; one request is one transaction, so nothing of the failed request was.
 */
import { isDirectusError } from "@directus/sdk";
import { plainError } from "../plain-error";
import type { Scalar } from "./model";

export type WriteAction = "create" | "update" | "delete";

/** What the failed request carried: its collection, action, items (natural keys and payloads) and body size. */
export interface FailedRequest {
  collection: string;
  action: WriteAction;
  items: { key: string; payload?: Record<string, Scalar> }[];
  bodyBytes: number;
}

/** Which server limit stopped a request, and the Directus setting that raises it. */
export interface ServerLimit {
  limit: string;
  setting: string;
}

/** Directus error codes that mean "this data is not acceptable": only these send the user back to the seed file. */
const DATA_REFUSALS = new Set([
  "FAILED_VALIDATION",
  "RECORD_NOT_UNIQUE",
  "INVALID_FOREIGN_KEY",
  "VALUE_TOO_LONG",
  "VALUE_OUT_OF_RANGE",
  "NOT_NULL_VIOLATION",
  "CONTAINS_NULL_VALUES",
  "INVALID_PAYLOAD",
]);

interface HttpFailure {
  status?: number;
  codes: string[];
  messages: string[];
}

function httpFailure(error: unknown): HttpFailure {
  const status = (error as { response?: { status?: number } })?.response?.status;
  if (!isDirectusError(error)) return { status, codes: [], messages: [plainError(error).message] };
  return { status, codes: error.errors.map((e) => String(e.extensions?.code ?? "")), messages: error.errors.map((e) => e.message) };
}

/** A 413 (or Directus's "request entity too large"), a rate limit, or a timeout; undefined for anything else. */
export function serverLimitOf(error: unknown): ServerLimit | undefined {
  const { status, codes, messages } = httpFailure(error);
  const text = messages.join("; ");
  if (status === 413 || /request entity too large|payload too large/i.test(text)) {
    return { limit: "the largest request body Directus accepts", setting: "MAX_PAYLOAD_SIZE (Directus env; default 1mb)" };
  }
  if (/max batch mutation limit/i.test(text)) {
    return { limit: "the most items Directus changes in one request", setting: "MAX_BATCH_MUTATION (Directus env; default Infinity)" };
  }
  if (status === 429 || codes.includes("REQUESTS_EXCEEDED")) {
    return { limit: "Directus's rate limiter", setting: "RATE_LIMITER_POINTS / RATE_LIMITER_DURATION, or RATE_LIMITER_ENABLED=false (Directus env)" };
  }
  const timedOut = status === 408 || status === 504 || (error as Error)?.name === "TimeoutError" || /did not answer .* within/.test(text);
  if (timedOut) {
    return { limit: "how long one request may take", setting: "the seed's request timeout (env TRM_DIRECTUS_REQUEST_TIMEOUT_S, default 120) or, behind a proxy, the proxy's timeout" };
  }
  return undefined;
}

/** Directus refused the data itself (validation, uniqueness, foreign key, ...). */
export function isDataRefusal(error: unknown): boolean {
  const { status, codes } = httpFailure(error);
  return serverLimitOf(error) === undefined && status !== undefined && status < 500 && codes.some((code) => DATA_REFUSALS.has(code));
}

/** A write failed: which collection, items and field, why, and what this run had written before. */
export class SeedWriteError extends Error {
  constructor(
    readonly collection: string,
    readonly action: WriteAction,
    /** Natural keys of the items the refusal points at (all of the request's items when Directus does not say). */
    readonly keys: string[],
    readonly field: string | undefined,
    readonly reason: string,
    readonly written: string[],
    /** "data": Directus refused the values; "limit": a server limit stopped the request; "server": anything else. */
    readonly kind: "data" | "limit" | "server" = "data",
    advice = "fix the seed data and run again: the next run writes only what is missing",
  ) {
    super(
      `Directus refused to ${action} ${describeItems(collection, keys)}${field ? `, field ${field} (as Directus names it)` : ""}: ${reason}\n` +
        `  nothing of this request was written (one request is one transaction); ` +
        (written.length > 0 ? `already written by this run: ${written.join("; ")}` : "nothing else was written by this run") +
        `\n  ${advice}`,
    );
    this.name = "SeedWriteError";
  }
}

function describeItems(collection: string, keys: string[]): string {
  const shown = keys.slice(0, 10).map((k) => `"${k}"`).join(", ");
  return `${keys.length === 1 ? "item" : `${keys.length} items`} of ${collection} (${shown}${keys.length > 10 ? `, and ${keys.length - 10} more` : ""})`;
}

/** The items a refusal is about: those holding the refused value when Directus names one, else all of them. */
function refusedItems(items: FailedRequest["items"], field: string | undefined, value: unknown): string[] {
  const holding = field && value !== undefined ? items.filter((i) => i.payload && String(i.payload[field]) === String(value)) : [];
  return (holding.length > 0 ? holding : items).map((i) => i.key);
}

/** The error to throw for a failed request: a data refusal, a server limit, or another server failure. */
export function classifyFailure(request: FailedRequest, error: unknown, written: string[]): SeedWriteError {
  const { collection, action, items, bodyBytes } = request;
  const keys = items.map((i) => i.key);
  const reason = httpFailure(error).messages.join("; ");
  const limit = serverLimitOf(error);
  if (limit) {
    const size = `the request carried ${items.length} item(s) in ${bodyBytes} bytes of JSON`;
    return new SeedWriteError(collection, action, keys, undefined, `${reason} (${limit.limit})`, written, "limit",
      `${size}; the seed data is not at fault: raise ${limit.setting}, or lower the seed's request size to match the server, and run again`);
  }
  if (!isDataRefusal(error)) {
    return new SeedWriteError(collection, action, keys, undefined, reason, written, "server",
      "the seed data was not refused: check that Directus is up and its log, then run again: the next run writes only what is missing");
  }
  const first = isDirectusError(error) ? error.errors[0] : undefined;
  const extensions = (first?.extensions ?? {}) as { field?: string; value?: unknown };
  // Directus names a payload field for validation errors; for database errors it sometimes names another column.
  const field = extensions.field && items.some((i) => i.payload && extensions.field! in i.payload) ? extensions.field : undefined;
  return new SeedWriteError(collection, action, refusedItems(items, field, extensions.value), field, reason, written);
}
