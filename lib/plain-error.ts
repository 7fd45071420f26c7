import { isDirectusError } from "@directus/sdk";

/**
 * Errors leaving a dynamic provider must be plain `Error`s with the whole story in `message`: the
 * provider host reports only that, and Directus SDK errors are not Errors at all ({ errors: [...] }).
 */
export function plainError(error: unknown): Error {
  if (isDirectusError(error)) {
    const details = error.errors.map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`).join("; ");
    return new Error(`Directus answered ${error.response?.status ?? "with an error"}: ${details}`);
  }
  return new Error(error instanceof Error ? error.message : String(error));
}
