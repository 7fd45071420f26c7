import { isDirectusError } from "@directus/sdk";

/**
 * Errors leaving a dynamic provider must be plain `Error`s with the whole story in `message`: the
 * provider host reports only that. Directus SDK errors carry it elsewhere: `errors` (Directus's own
 * refusals), or, for an answer that was not Directus's JSON (a proxy's 502, an HTML page), only the
 * response and its body, with an empty message.
 */
export function plainError(error: unknown): Error {
  if (isDirectusError(error)) {
    const details = error.errors.map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`).join("; ");
    return new Error(`Directus answered ${error.response?.status ?? "with an error"}: ${details}`);
  }
  const answer = error as { message?: unknown; response?: { status?: number; statusText?: string }; errors?: unknown; data?: unknown };
  if (typeof answer?.message === "string" && answer.message) return new Error(answer.message);
  if (answer?.response?.status) {
    const body = textOf(answer.errors ?? answer.data);
    return new Error(`Directus answered ${answer.response.status} ${answer.response.statusText ?? ""}`.trim() + (body ? `: ${body}` : ""));
  }
  return new Error(error instanceof Error ? error.name : textOf(error) || "unknown error");
}

const BODY_CHARS = 500;

function textOf(value: unknown): string {
  if (value === undefined || value === null) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return text.length > BODY_CHARS ? `${text.slice(0, BODY_CHARS)}…` : text;
}
