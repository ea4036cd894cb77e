/** Shared set-up for the client's end-to-end tests: a simulator on loopback and a client on it. */
import "../../src/index.node.js";
import { RetryClient } from "../../src/client/retry-client.js";
import type { ClientConfig } from "../../src/client/types.js";
import {
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from "../../src/simulator/index.js";

export { Message } from "../../src/message.js";
export { RetryClient };

/** A simulator for one test file. */
export async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator(options);
}

/**
 * A client on the simulator with fast retries (5 ms base, no jitter) and no environment, so no
 * real key or URL can leak in. Override anything with `config`.
 */
export function clientFor(sim: Simulator, config: ClientConfig = {}): RetryClient {
  return new RetryClient({
    env: {},
    defaultProvider: "openai",
    defaultModel: "gpt-4o",
    fallbackModels: [],
    retry: { baseDelayMs: 5, maxDelayMs: 50, jitter: 0 },
    ...config,
    providers: {
      openai: { apiKey: "sk-test-openai", baseURL: sim.openaiBaseURL },
      anthropic: { apiKey: "sk-ant-test", baseURL: sim.anthropicBaseURL },
      ...config.providers,
    },
  });
}

/** Requests the simulator saw for models starting with `prefix`. */
export function seen(sim: Simulator, prefix: string) {
  return sim.requests().filter((r) => r.model?.startsWith(prefix));
}
