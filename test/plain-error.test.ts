import { describe, expect, it } from "vitest";
import { plainError } from "../lib/plain-error";

describe("errors leaving a dynamic provider", () => {
  it("spell out a Directus API error (not an Error) with its codes and status", () => {
    const directus = {
      errors: [{ message: 'Value for field "imei" in collection "devices" has to be unique.', extensions: { code: "RECORD_NOT_UNIQUE" } }],
      response: { status: 400 },
    };
    const error = plainError(directus);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('Directus answered 400: RECORD_NOT_UNIQUE: Value for field "imei" in collection "devices" has to be unique.');
  });

  it("keep an Error's message and drop its class, and turn anything else into text", () => {
    class Custom extends Error {}
    expect(plainError(new Custom("checksum mismatch: 002_x.sql")).constructor).toBe(Error);
    expect(plainError(new Custom("checksum mismatch: 002_x.sql")).message).toBe("checksum mismatch: 002_x.sql");
    expect(plainError("socket hang up").message).toBe("socket hang up");
  });
});

describe("errors leaving a dynamic provider, when the answer was not Directus's JSON", () => {
  it("name the status and the body of an SDK error with an empty message (a proxy's 502, an HTML page)", () => {
    const sdk = Object.assign(new Error(""), { name: "RequestError", response: { status: 502, statusText: "Bad Gateway" }, errors: "<html>upstream down</html>" });
    expect(plainError(sdk).message).toBe("Directus answered 502 Bad Gateway: <html>upstream down</html>");
  });

  it("never print [object Object]", () => {
    expect(plainError({ reason: "socket closed" }).message).toBe('{"reason":"socket closed"}');
    expect(plainError(new TypeError("")).message).toBe("TypeError");
  });
});
