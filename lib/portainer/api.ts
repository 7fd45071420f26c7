/**
 * Portainer's HTTP API (CE 2.23) as this project calls it: X-API-Key authentication, JSON bodies,
 * Portainer's error shape `{ message, details }`, and raw bytes for Docker's log streams (read
 * through Portainer's Docker proxy, /api/endpoints/{id}/docker/...).
 */

export interface PortainerTarget {
  /** e.g. https://portainer.example.com (PORTAINER_URL) */
  url: string;
  /** An admin's access token, sent as X-API-Key (PORTAINER_API_KEY). */
  apiKey: string;
  /** The environment (endpoint) that runs the stack (PORTAINER_ENDPOINT_ID). */
  endpointId: number;
  /** PORTAINER_STACK_NAME; Portainer keeps it normalised (normalizeStackName). */
  stackName: string;
}

/** Portainer's answer or state that this client cannot go on with; the message says what to do. */
export class PortainerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PortainerError";
  }
}

/** An error answer of Portainer's API, which is JSON `{ message, details }`. */
export class PortainerHttpError extends Error {
  constructor(
    readonly status: number,
    readonly portainerMessage: string,
    readonly details: string,
    request: string,
  ) {
    super(`Portainer ${request}: HTTP ${status} ${portainerMessage}${details && details.toLowerCase() !== portainerMessage.toLowerCase() ? ` (${details})` : ""}`);
    this.name = "PortainerHttpError";
  }

  get text(): string {
    return `${this.portainerMessage}\n${this.details}`;
  }
}

export interface PortainerApi {
  json<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** GET of a body that is not JSON (a Docker log stream). */
  bytes(path: string): Promise<Buffer>;
}

export function portainerApi(target: PortainerTarget, fetchImpl: typeof fetch = fetch): PortainerApi {
  const base = `${target.url.replace(/\/+$/, "")}/api`;
  const send = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const response = await fetchImpl(`${base}${path}`, {
      method,
      headers: { "X-API-Key": target.apiKey, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch((error: unknown) => {
      throw new PortainerError(`cannot reach Portainer at ${target.url} (PORTAINER_URL): ${causeOf(error)}; check the address and that this machine reaches it`);
    });
    if (!response.ok) throw httpError(response.status, `${method} ${path}`, await response.text());
    return response;
  };
  return {
    async json<T>(method: string, path: string, body?: unknown): Promise<T> {
      const text = await (await send(method, path, body)).text();
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async bytes(path: string): Promise<Buffer> {
      return Buffer.from(await (await send("GET", path)).arrayBuffer());
    },
  };
}

export function httpError(status: number, request: string, text: string): PortainerHttpError {
  let body: { message?: string; details?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not Portainer's JSON (a proxy's error page): its text stands for the message
  }
  return new PortainerHttpError(status, body.message ?? text.slice(0, 300), body.details ?? "", request);
}

export function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
