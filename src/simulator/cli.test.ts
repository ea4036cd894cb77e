import { describe, expect, it } from "vitest";
import { runSimulateCommand } from "./cli.js";
import type { Simulator } from "./server.js";

describe("runSimulateCommand", () => {
  it("prints the base URLs to export, serves until aborted, then closes", async () => {
    let output = "";
    const controller = new AbortController();
    let simulator: Simulator | undefined;
    const done = runSimulateCommand({
      scenario: "outage",
      seed: 5,
      tokenDelayMs: 0,
      out: { write: (text: string) => (output += text) },
      signal: controller.signal,
      onReady: (s) => {
        simulator = s;
      },
    });
    await new Promise<void>((resolve) => {
      const wait = () => (simulator ? resolve() : setTimeout(wait, 5));
      wait();
    });
    const sim = simulator!;
    expect(output).toContain(`OPENAI_BASE_URL=${sim.url}/v1\n`);
    expect(output).toContain(`ANTHROPIC_BASE_URL=${sim.url}\n`);
    expect(output).toContain("scenario: outage, seed: 5");
    const res = await fetch(`${sim.openaiBaseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer k" },
      body: JSON.stringify({ model: "gpt-4o", messages: [] }),
    });
    expect(res.status).toBe(503);
    controller.abort();
    await done;
    expect(output).toContain("stopped");
    await expect(fetch(`${sim.url}/__simulator/requests`)).rejects.toThrow();
  });

  it("rejects an unknown scenario before listening", async () => {
    await expect(
      runSimulateCommand({ scenario: "nope", out: { write: () => {} } }),
    ).rejects.toThrow(/neither a built-in scenario/);
  });
});
