// The floors: one request over a bare keep-alive `node:http` agent, or a bare `fetch`, with the
// JSON / SSE of the OpenAI Chat Completions wire parsed by hand. No retries, nothing else.
import { Agent, request } from "node:http";

/** A non-2xx answer, with what a retry policy needs to know. */
export class HttpStatusError extends Error {
  constructor(status, headers) {
    super(`HTTP ${status}`);
    this.status = status;
    this.headers = headers;
  }
}

/** Thrown when a stream ends without its `[DONE]` terminator. */
export class TruncatedStreamError extends Error {}

function body(model, prompt, stream) {
  return JSON.stringify({ model, messages: [{ role: "user", content: prompt }], stream });
}

/** Feeds SSE text; calls `onData(json)` per `data:` event, returns whether `[DONE]` arrived. */
function sseParser(onData) {
  let buffer = "";
  let done = false;
  return {
    feed(chunk) {
      buffer += chunk;
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        if (!event.startsWith("data: ")) continue;
        const data = event.slice(6);
        if (data === "[DONE]") done = true;
        else onData(JSON.parse(data));
      }
    },
    get done() {
      return done;
    },
  };
}

/** `{ complete(prompt), stream(prompt) }` over `node:http`, for the OpenAI wire at `baseURL`. */
export function httpFloor({ baseURL, model, apiKey = "sk-bench" }) {
  const url = new URL(`${baseURL}/chat/completions`);
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const send = (prompt, stream, onResponse) =>
    new Promise((resolve, reject) => {
      const payload = body(model, prompt, stream);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(payload),
            authorization: `Bearer ${apiKey}`,
          },
        },
        (res) => {
          res.setEncoding("utf8");
          if (res.statusCode !== 200) {
            res.resume();
            reject(new HttpStatusError(res.statusCode, res.headers));
            return;
          }
          onResponse(res, resolve, reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  return {
    agent,
    complete: (prompt) =>
      send(prompt, false, (res, resolve, reject) => {
        let text = "";
        res.on("data", (c) => {
          text += c;
        });
        res.on("end", () => {
          try {
            resolve(JSON.parse(text).choices[0].message.content);
          } catch (error) {
            reject(error);
          }
        });
        res.on("error", reject);
      }),
    stream: (prompt, onDelta) =>
      send(prompt, true, (res, resolve, reject) => {
        let text = "";
        let chunks = 0;
        const sse = sseParser((json) => {
          const delta = json.choices[0]?.delta?.content;
          if (delta) {
            text += delta;
            chunks++;
            onDelta?.(delta);
          }
        });
        res.on("data", (c) => {
          try {
            sse.feed(c);
          } catch (error) {
            res.destroy(error);
          }
        });
        res.on("end", () =>
          sse.done ? resolve({ text, chunks }) : reject(new TruncatedStreamError("no [DONE]")),
        );
        res.on("error", reject);
        res.on("close", () => {
          if (!res.complete) reject(new TruncatedStreamError("connection closed mid-stream"));
        });
      }),
  };
}

/** The same over the global `fetch` (undici), reading the body stream by hand. */
export function fetchFloor({ baseURL, model, apiKey = "sk-bench" }) {
  const url = `${baseURL}/chat/completions`;
  const headers = { "content-type": "application/json", authorization: `Bearer ${apiKey}` };
  const send = async (prompt, stream, signal) => {
    const res = await fetch(url, {
      method: "POST",
      headers,
      body: body(model, prompt, stream),
      signal,
    });
    if (res.status !== 200) {
      await res.arrayBuffer();
      throw new HttpStatusError(res.status, Object.fromEntries(res.headers));
    }
    return res;
  };
  return {
    complete: async (prompt) => {
      const res = await send(prompt, false);
      return JSON.parse(await res.text()).choices[0].message.content;
    },
    stream: async (prompt, onDelta, signal) => {
      const res = await send(prompt, true, signal);
      let text = "";
      let chunks = 0;
      const sse = sseParser((json) => {
        const delta = json.choices[0]?.delta?.content;
        if (delta) {
          text += delta;
          chunks++;
          onDelta?.(delta);
        }
      });
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        sse.feed(decoder.decode(value, { stream: true }));
      }
      if (!sse.done) throw new TruncatedStreamError("no [DONE]");
      return { text, chunks };
    },
  };
}
