/** The one way our code opens a Directus REST client (seed, schema, scripts): token or login. */
import { authentication, createDirectus, rest, staticToken, type RestClient } from "@directus/sdk";

export type DirectusCredentials = { token: string } | { email: string; password: string };

/**
 * `fetch` that sends a read or a login once more when it died on a kept-alive socket Directus had just
 * closed ("other side closed"): Node reuses idle sockets, and one closed by the server while this
 * process was busy (or Directus restarted) fails the next request. A login sent twice only opens one
 * more session; writes are never resent: the seed's next run re-plans from what exists.
 */
export function resendSafeRequestsOnClosedSocket(fetchImpl: typeof fetch = fetch): typeof fetch {
  return (input, init) =>
    fetchImpl(input, init).catch((error: Error & { cause?: { code?: string } }) => {
      const closedSocket = error.cause?.code === "UND_ERR_SOCKET" || error.cause?.code === "ECONNRESET";
      if (!closedSocket || !isSafeToResend(input, init)) throw error;
      return fetchImpl(input, init);
    });
}

function isSafeToResend(input: Parameters<typeof fetch>[0], init?: RequestInit): boolean {
  const request = input instanceof Request ? input : undefined;
  const method = (init?.method ?? request?.method ?? "GET").toUpperCase();
  const url = new URL(request?.url ?? String(input));
  return method === "GET" || method === "HEAD" || (method === "POST" && url.pathname.endsWith("/auth/login"));
}

/**
 * How long one request may go unanswered: a seed batch takes seconds; a Directus that hangs must not
 * hang `pulumi up`. TRM_DIRECTUS_REQUEST_TIMEOUT_S raises it for a slow server.
 */
export const REQUEST_TIMEOUT_MS = requestTimeoutMs(process.env.TRM_DIRECTUS_REQUEST_TIMEOUT_S);

export function requestTimeoutMs(seconds: string | undefined): number {
  if (seconds === undefined || seconds === "") return 120_000;
  const value = Number(seconds);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`TRM_DIRECTUS_REQUEST_TIMEOUT_S="${seconds}" must be a number of seconds above 0`);
  return value * 1000;
}

/** `fetch` that gives up on a request Directus leaves unanswered for `timeoutMs`, saying which. */
export function giveUpOnSilentServer(fetchImpl: typeof fetch = fetch, timeoutMs = REQUEST_TIMEOUT_MS): typeof fetch {
  return (input, init) =>
    fetchImpl(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) }).catch((error: Error) => {
      if (error.name !== "TimeoutError") throw error;
      const request = input instanceof Request ? input : undefined;
      const method = (init?.method ?? request?.method ?? "GET").toUpperCase();
      throw new Error(`Directus did not answer ${method} ${request?.url ?? String(input)} within ${timeoutMs / 1000} s`);
    });
}

/** Connects with a static token, or logs in with email and password. `fetch` lets a caller observe requests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- callers type the collections they use
export async function connectDirectus(url: string, credentials: DirectusCredentials, fetchImpl?: typeof fetch): Promise<RestClient<any>> {
  const base = createDirectus(url, { globals: { fetch: resendSafeRequestsOnClosedSocket(giveUpOnSilentServer(fetchImpl)) } });
  if ("token" in credentials) return base.with(staticToken(credentials.token)).with(rest());
  const client = base.with(authentication("json", { autoRefresh: false })).with(rest());
  await client.login({ email: credentials.email, password: credentials.password });
  return client;
}

