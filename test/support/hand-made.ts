import { createCollection, createItem, type RestClient } from "@directus/sdk";

/** A collection made in the admin UI and never captured into schema.yaml, with one row: what drift looks like. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests' clients are untyped
export async function createHandMadeCollection(client: RestClient<any>, collection: string): Promise<void> {
  await client.request(
    createCollection({
      collection,
      meta: { icon: "sticky_note_2" },
      schema: {},
      fields: [
        { field: "id", type: "uuid", meta: { special: ["uuid"], hidden: true }, schema: { is_primary_key: true } },
        { field: "body", type: "text", meta: { interface: "input-multiline" }, schema: {} },
      ],
    } as never),
  );
  await client.request(createItem(collection, { body: "call the timekeepers" }));
}
