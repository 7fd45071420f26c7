/** A failed pull, as Portainer relays `docker compose pull`/`up` stderr, turned into an error naming the image at fault. */
import { parse } from "yaml";
import { PortainerError, PortainerHttpError } from "./api";

interface ComposeImage {
  service: string;
  image: string;
}

export function explainPullFailure(error: unknown, compose: string, doing: string): unknown {
  if (!(error instanceof PortainerHttpError) || !/\bpull/i.test(error.text)) return error;
  const images = composeImages(compose);
  const culprits = imagesAtFault(error.text, images)
    .map((i) => `${i.image} (service ${i.service})`)
    .join(", ");
  return new PortainerError(
    `Portainer could not pull ${culprits} while ${doing}: ${pullReason(error.text)}. ` +
      "Every image of the stack must be in a registry the Portainer host reaches, never a local-only tag: push it there, " +
      "and if the registry is private add its credentials to Portainer (Registries)",
  );
}

export function composeImages(compose: string): ComposeImage[] {
  const services = (parse(compose)?.services ?? {}) as Record<string, { image?: string }>;
  return Object.entries(services).flatMap(([service, s]) => (s.image ? [{ service, image: s.image }] : []));
}

/**
 * Docker's error names the repository (no tag) or, for a registry it cannot reach, the host. Compose
 * prints "<service> Error <reason>" for every service it was pulling, the one at fault's reason
 * repeated on the others' lines, so a service's own line is only the last resort.
 */
function imagesAtFault(text: string, images: ComposeImage[]): ComposeImage[] {
  const byRepository = images.filter((i) => text.includes(repositoryOf(i.image)));
  if (byRepository.length > 0) return byRepository;
  const byHost = images.filter((i) => {
    const host = hostOf(i.image);
    return host !== undefined && text.includes(host);
  });
  if (byHost.length > 0) return byHost;
  const byLine = images.filter((i) => new RegExp(`^\\s*${escapeRegExp(i.service)}\\s+Error\\b`, "m").test(text));
  return byLine.length > 0 ? byLine : images;
}

const repositoryOf = (image: string) => image.replace(/@sha256:[a-f0-9]+$/, "").replace(/:[^/:]+$/, "");
const hostOf = (image: string) => /^([^/]+[.:][^/]*|localhost)\//.exec(repositoryOf(image))?.[1];

function pullReason(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /error response from daemon/i.test(l)) ?? lines[0] ?? "no reason given";
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
