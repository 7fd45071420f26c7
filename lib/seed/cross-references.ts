/** The references between a seed file's items, by natural key: what the schema alone cannot check. */
import type { SeedFile } from "./data";

/** Natural keys that must exist and be unique; the schema alone cannot see these. */
export function crossReferenceProblems(data: SeedFile): string[] {
  const problems: string[] = [];
  const users = uniqueKeys(data.users, (u) => u.email, "users", problems);
  const vehicles = uniqueKeys(data.vehicles, (v) => v.plate ?? v.vin!, "vehicles", problems);
  for (const v of data.vehicles) if (v.plate && v.vin) vehicles.add(v.vin);
  const devices = uniqueKeys(data.devices, (d) => d.imei, "devices", problems);
  const organizations = uniqueKeys(data.organizations, (o) => o.slug, "organizations", problems);

  const mustExist = (set: Set<string>, value: string | undefined, where: string, what: string) => {
    if (value !== undefined && !set.has(value)) problems.push(`${where}: "${value}" is not defined under ${what}`);
  };

  for (const org of data.organizations) {
    const at = `organizations[${org.slug}]`;
    uniqueKeys(org.members, (m) => m.user, `${at}.members`, problems);
    org.members.forEach((m, i) => mustExist(users, m.user, `${at}.members[${i}].user`, "users"));
    uniqueKeys(org.vehicles, (v) => v.vehicle, `${at}.vehicles`, problems);
    org.vehicles.forEach((v, i) => mustExist(vehicles, v.vehicle, `${at}.vehicles[${i}].vehicle`, "vehicles"));
    uniqueKeys(org.devices, (d) => d.imei, `${at}.devices`, problems);
    org.devices.forEach((d, i) => mustExist(devices, d.imei, `${at}.devices[${i}].imei`, "devices"));
  }

  uniqueKeys(data.events, (e) => `${e.organization}/${e.slug}`, "events", problems);
  for (const event of data.events) {
    const at = `events[${event.slug}]`;
    mustExist(organizations, event.organization, `${at}.organization`, "organizations");
    if (Date.parse(event.ends_at) <= Date.parse(event.starts_at)) problems.push(`${at}.ends_at: must be after starts_at`);
    const classes = uniqueKeys(event.classes, (c) => c.code, `${at}.classes`, problems);
    uniqueKeys(event.entries, (e) => String(e.race_number), `${at}.entries (race_number)`, problems);
    for (const entry of event.entries) {
      const entryAt = `${at}.entries[#${entry.race_number}]`;
      mustExist(classes, entry.class, `${entryAt}.class`, `${at}.classes`);
      mustExist(vehicles, entry.vehicle, `${entryAt}.vehicle`, "vehicles");
      uniqueKeys(entry.crew, (c) => c.user, `${entryAt}.crew`, problems);
      entry.crew.forEach((c, i) => mustExist(users, c.user, `${entryAt}.crew[${i}].user`, "users"));
      uniqueKeys(entry.devices, (d) => d.imei, `${entryAt}.devices`, problems);
      const crew = new Set(entry.crew.map((c) => c.user));
      entry.devices.forEach((d, i) => {
        mustExist(devices, d.imei, `${entryAt}.devices[${i}].imei`, "devices");
        mustExist(crew, d.assigned_user, `${entryAt}.devices[${i}].assigned_user`, `${entryAt}.crew`);
      });
    }
  }
  return problems;
}

function uniqueKeys<T>(items: T[], key: (item: T) => string, where: string, problems: string[]): Set<string> {
  const seen = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) problems.push(`${where}: "${k}" appears more than once`);
    seen.add(k);
  }
  return seen;
}

