import { describe, expect, it } from "vitest";
import { isLoopback, KeyChecker } from "./auth.js";

describe("KeyChecker", () => {
  it("accepts a configured key every time, and a wrong one never, also after a right one", () => {
    const keys = new KeyChecker(["gw-key-one", "gw-key-two"]);
    for (let i = 0; i < 3; i++) {
      expect(keys.check({ authorization: "Bearer gw-key-one" })).toBe(true);
      expect(keys.check({ "x-api-key": "gw-key-two" })).toBe(true);
      expect(keys.check({ authorization: "bearer  gw-key-two " })).toBe(true);
      expect(keys.check({ authorization: "Bearer gw-key-on" })).toBe(false);
      expect(keys.check({ authorization: "Bearer gw-key-one2" })).toBe(false);
      expect(keys.check({ "x-api-key": "GW-KEY-ONE" })).toBe(false);
      expect(keys.check({ authorization: "Basic gw-key-one" })).toBe(false);
      expect(keys.check({})).toBe(false);
    }
  });

  it("lets everything through when no key is configured", () => {
    const keys = new KeyChecker([]);
    expect(keys.enabled).toBe(false);
    expect(keys.check({})).toBe(true);
  });

  it("tells loopback hosts", () => {
    expect(isLoopback("127.0.0.1")).toBe(true);
    expect(isLoopback("[::1]")).toBe(true);
    expect(isLoopback("0.0.0.0")).toBe(false);
  });
});
