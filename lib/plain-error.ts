/**
 * Errors leaving a dynamic provider must be plain `Error`s with the whole story in `message`: the
 * provider host reports only that, and Directus SDK errors are not Errors at all ({ errors: [...] }).
 */
export function plainError(error: unknown): Error {
  const directus = error as { errors?: { message?: string; extensions?: { code?: string } }[]; response?: { status?: number } };
  if (Array.isArray(directus?.errors)) {
    const details = directus.errors.map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message ?? ""}`).join("; ");
    return new Error(`Directus answered ${directus.response?.status ?? "an error"}: ${details}`);
  }
  if (error instanceof Error) return new Error(error.message);
  return new Error(String(error));
}
