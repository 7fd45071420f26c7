import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { freePorts } from "../lib/free-port";

describe("freePorts", () => {
  it("gives different ports, each of which can be bound right after", async () => {
    const ports = await freePorts(20);
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
