// A fake OpenAI + Anthropic upstream that answers at once (no simulator logic), in its own
// process: the same upstream for every contestant. Prints `READY <url>`.
import { createServer } from "node:http";

const WORDS = ["The", " answer", " is", " four", ",", " as", " always", "."];
const jsonBody = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1700000000,
  model: "gpt-4o-mini",
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: WORDS.join(""), refusal: null },
      logprobs: null,
      finish_reason: "stop",
    },
  ],
  usage: { prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 },
});
const chunk = (delta, finish) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1700000000, model: "gpt-4o-mini", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
const sseBody =
  chunk({ role: "assistant", content: "" }, null) +
  WORDS.map((w) => chunk({ content: w }, null)).join("") +
  chunk({}, "stop") +
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1700000000, model: "gpt-4o-mini", choices: [], usage: { prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 } })}\n\n` +
  "data: [DONE]\n\n";

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let stream = false;
    try {
      stream = JSON.parse(Buffer.concat(chunks).toString()).stream === true;
    } catch {}
    if (stream) {
      res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req_bench" });
      res.end(sseBody);
    } else {
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(jsonBody),
        "x-request-id": "req_bench",
      });
      res.end(jsonBody);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  console.log(`READY http://127.0.0.1:${server.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
