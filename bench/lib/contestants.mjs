// Every contestant as `{ complete(prompt) -> text, stream(prompt) -> { text, chunks } }`, built
// against a simulator at `url`. `chaos` options turn on each one's own resilience features the way
// its docs recommend (and a fallback model where the system has such a thing).
import { createRequire } from "node:module";
import { fetchFloor, httpFloor } from "./bare.mjs";

const require = createRequire(import.meta.url);

export const OPENAI_MODEL = "gpt-4o-mini";
export const ANTHROPIC_MODEL = "claude-sonnet-4-20250514";

/** Overhead contestants, in table order: [id, label]. */
export const OVERHEAD_CONTESTANTS = [
  ["floor-http", "floor: bare node:http"],
  ["floor-fetch", "floor: bare fetch"],
  ["retry-client", "retry-client (node:http transport)"],
  ["retry-client-fetch", "retry-client (injected fetch)"],
  ["retry-client-otel", "retry-client + openTelemetry() (no-op provider)"],
  ["openai", "openai SDK"],
  ["anthropic", "@anthropic-ai/sdk (Anthropic wire)"],
  ["ai", "Vercel ai + @ai-sdk/openai"],
  ["cockatiel", "fetch + cockatiel"],
  ["p-retry", "fetch + p-retry"],
];

/** Chaos contestants, in table order: [id, label]. */
export const CHAOS_CONTESTANTS = [
  ["retry-client", "retry-client (with fallback)"],
  ["openai", "openai SDK (built-in retries)"],
  ["ai", "Vercel ai (built-in retries)"],
  ["cockatiel", "fetch + cockatiel (retry, breaker, fallback)"],
  ["p-retry", "fetch + p-retry"],
];

/** Package whose version each contestant reports. */
export const PACKAGE_OF = {
  openai: "openai",
  anthropic: "@anthropic-ai/sdk",
  ai: "ai",
  "ai-provider": "@ai-sdk/openai",
  cockatiel: "cockatiel",
  "p-retry": "p-retry",
  ioredis: "ioredis",
};

const messages = (prompt) => [{ role: "user", content: prompt }];

/**
 * @param {string} id
 * @param {{ url: string, model?: string, fallbackModel?: string, chaos?: boolean, dist: string }} o
 */
export async function makeContestant(id, o) {
  const baseURL = `${o.url}/v1`;
  const model = o.model ?? OPENAI_MODEL;
  // `retry-client{"throttling":false}`: the client with extra configuration (ablations).
  if (id.startsWith("retry-client{")) {
    const config = JSON.parse(id.slice("retry-client".length));
    return retryClient(false, baseURL, model, { ...o, config });
  }
  switch (id) {
    case "floor-http":
      return httpFloor({ baseURL, model });
    case "floor-fetch":
      return fetchFloor({ baseURL, model });
    case "layer-transport":
    case "layer-provider":
      return layer(id, baseURL, model, o);
    case "retry-client":
    case "retry-client-fetch":
      return retryClient(id === "retry-client-fetch", baseURL, model, o);
    case "retry-client-otel":
      return retryClient(false, baseURL, model, { ...o, otel: true });
    case "openai":
      return openaiSdk(baseURL, model);
    case "anthropic":
      return anthropicSdk(o.url);
    case "ai":
      return aiSdk(baseURL, model);
    case "cockatiel":
      return cockatielFetch(baseURL, model, o);
    case "p-retry":
      return pRetryFetch(baseURL, model);
    default:
      throw new Error(`unknown contestant ${id}`);
  }
}

async function retryClient(useFetch, baseURL, model, o) {
  const { RetryClient } = await import(`${o.dist}/index.node.js`);
  // openTelemetry() with the API's global no-op providers (no SDK registered): the listener's cost.
  const otel = o.otel ? (await import(`${o.dist}/otel/index.js`)).openTelemetry() : undefined;
  const client = new RetryClient({
    env: {},
    defaultProvider: "openai",
    defaultModel: model,
    providers: { openai: { apiKey: "sk-bench", baseURL } },
    ...(o.fallbackModel ? { fallbackModels: [["openai", o.fallbackModel]] } : {}),
    ...(o.chaos ? { midStreamFailure: "restart" } : {}),
    ...(o.stateStore ? { stateStore: o.stateStore } : {}),
    ...(useFetch ? { fetch: globalThis.fetch } : {}),
    ...(otel ? { instrumentation: [otel] } : {}),
    ...o.config,
  });
  const msgs = (prompt) => [{ role: "user", content: prompt }];
  return {
    client,
    complete: async (prompt) => (await client.complete(msgs(prompt))).content,
    stream: async (prompt, onDelta, signal) => {
      let text = "";
      let chunks = 0;
      const s = client.stream(msgs(prompt), signal ? { signal } : {});
      if (o.chaos) {
        // A restart voids the text so far: the events say when.
        for await (const ev of s.events()) {
          if (ev.type === "restart") text = "";
          else if (ev.type === "text-delta") {
            text += ev.text;
            chunks++;
          }
        }
      } else {
        for await (const delta of s) {
          text += delta;
          chunks++;
          onDelta?.(delta);
        }
      }
      return { text, chunks };
    },
  };
}

/**
 * retry-client's layers alone, for `bench/layers.mjs`: its default Node transport with the floor's
 * hand parsing ("layer-transport"), and the OpenAI provider without the client ("layer-provider").
 */
async function layer(id, baseURL, model, o) {
  const lib = await import(`${o.dist}/index.node.js`);
  if (id === "layer-transport") {
    const transport = lib.createNodeTransport();
    const request = (prompt, stream) => ({
      method: "POST",
      url: `${baseURL}/chat/completions`,
      headers: { "content-type": "application/json", authorization: "Bearer sk-bench" },
      body: JSON.stringify({ model, messages: messages(prompt), stream }),
    });
    return {
      complete: async (prompt) => {
        const res = await transport.request(request(prompt, false));
        return JSON.parse(await res.text()).choices[0].message.content;
      },
      stream: async (prompt) => {
        const res = await transport.request(request(prompt, true));
        let text = "";
        let chunks = 0;
        let buffer = "";
        for await (const chunk of res.stream()) {
          buffer += chunk;
          let end = buffer.indexOf("\n\n");
          while (end >= 0) {
            const data = buffer.slice(6, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf("\n\n");
            if (data === "[DONE]") continue;
            const delta = JSON.parse(data).choices[0]?.delta?.content;
            if (delta) {
              text += delta;
              chunks++;
            }
          }
        }
        return { text, chunks };
      },
    };
  }
  const provider = new lib.OpenAIProvider({ apiKey: "sk-bench", baseURL });
  return {
    complete: async (prompt) => (await provider.complete(messages(prompt), { model })).content,
    stream: async (prompt) => {
      let text = "";
      let chunks = 0;
      for await (const ev of provider.stream(messages(prompt), { model })) {
        if (ev.type === "text-delta") {
          text += ev.text;
          chunks++;
        }
      }
      return { text, chunks };
    },
  };
}

function openaiSdk(baseURL, model) {
  const OpenAI = require("openai").default;
  // Defaults: maxRetries 2, honouring retry-after(-ms); timeout 10 min.
  const client = new OpenAI({ apiKey: "sk-bench", baseURL });
  return {
    complete: async (prompt) =>
      (await client.chat.completions.create({ model, messages: messages(prompt) })).choices[0]
        .message.content,
    stream: async (prompt, onDelta, signal) => {
      const s = await client.chat.completions.create(
        { model, messages: messages(prompt), stream: true },
        signal ? { signal } : {},
      );
      let text = "";
      let chunks = 0;
      for await (const c of s) {
        const delta = c.choices[0]?.delta?.content;
        if (delta) {
          text += delta;
          chunks++;
          onDelta?.(delta);
        }
      }
      return { text, chunks };
    },
  };
}

function anthropicSdk(url) {
  const Anthropic = require("@anthropic-ai/sdk").default;
  const client = new Anthropic({ apiKey: "sk-bench", baseURL: url });
  const params = (prompt) => ({
    model: ANTHROPIC_MODEL,
    max_tokens: 4096,
    messages: messages(prompt),
  });
  return {
    complete: async (prompt) => (await client.messages.create(params(prompt))).content[0].text,
    stream: async (prompt, onDelta, signal) => {
      const s = await client.messages.create(
        { ...params(prompt), stream: true },
        signal ? { signal } : {},
      );
      let text = "";
      let chunks = 0;
      for await (const ev of s) {
        if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") {
          text += ev.delta.text;
          chunks++;
          onDelta?.(ev.delta.text);
        }
      }
      return { text, chunks };
    },
  };
}

async function aiSdk(baseURL, modelId) {
  const { generateText, streamText } = await import("ai");
  const { createOpenAI } = await import("@ai-sdk/openai");
  const provider = createOpenAI({ apiKey: "sk-bench", baseURL });
  // The simulator speaks Chat Completions: the `.chat()` factory. Defaults: maxRetries 2.
  const model = provider.chat(modelId);
  return {
    complete: async (prompt) => (await generateText({ model, prompt })).text,
    stream: async (prompt, onDelta, signal) => {
      const r = streamText({ model, prompt, ...(signal ? { abortSignal: signal } : {}) });
      let text = "";
      let chunks = 0;
      // fullStream, not textStream: streamText reports errors as parts, not by throwing.
      for await (const part of r.fullStream) {
        if (part.type === "text-delta") {
          text += part.text;
          chunks++;
          onDelta?.(part.text);
        } else if (part.type === "error") throw part.error;
      }
      return { text, chunks };
    },
  };
}

async function cockatielFetch(baseURL, model, o) {
  const c = await import("cockatiel");
  const floor = fetchFloor({ baseURL, model });
  const fb = o.fallbackModel ? fetchFloor({ baseURL, model: o.fallbackModel }) : undefined;
  // The README's recipe: retry with exponential backoff around a consecutive-failure breaker.
  const policy = c.wrap(
    c.retry(c.handleAll, { maxAttempts: 3, backoff: new c.ExponentialBackoff() }),
    c.circuitBreaker(c.handleAll, {
      halfOpenAfter: 10_000,
      breaker: new c.ConsecutiveBreaker(5),
    }),
  );
  // Fallback is a policy of its own in cockatiel: the healthy model once all else failed.
  const run = (primary, secondary) =>
    fb
      ? c.fallback(c.handleAll, secondary).execute(() => policy.execute(primary))
      : policy.execute(primary);
  return {
    complete: (prompt) =>
      run(
        () => floor.complete(prompt),
        () => fb.complete(prompt),
      ),
    stream: (prompt) =>
      run(
        () => floor.stream(prompt),
        () => fb.stream(prompt),
      ),
  };
}

async function pRetryFetch(baseURL, model) {
  const pRetry = (await import("p-retry")).default;
  const floor = fetchFloor({ baseURL, model });
  // p-retry defaults: 10 retries is too many for an API call; its README shows `retries: 5`.
  const options = { retries: 5 };
  return {
    complete: (prompt) => pRetry(() => floor.complete(prompt), options),
    stream: (prompt) => pRetry(() => floor.stream(prompt), options),
  };
}
