/**
 * Prints the Portainer compose file exactly as the program renders it (lib/portainer.ts), for
 * validation in .ci/run (tools/compose-check). Secrets are placeholders: the compose text never
 * contains them anyway.
 */
import { DEFAULT_DATABASE_IMAGE, DEFAULT_REGISTRY_IMAGE } from "../lib/stack-config";
import { renderPortainerStack } from "../lib/portainer";

const placeholder = "not-a-secret-placeholder";
const stack = renderPortainerStack({
  directusImage: DEFAULT_REGISTRY_IMAGE,
  databaseImage: DEFAULT_DATABASE_IMAGE,
  database: { name: "directus", user: "directus", password: placeholder },
  directus: {
    publicUrl: "https://directus.example.com",
    adminEmail: "admin@example.com",
    adminPassword: placeholder,
    key: placeholder,
    secret: placeholder,
    schemaApplyMode: "apply",
    schemaAllowDeletions: false,
  },
});
process.stdout.write(stack.compose);
