import { openaiWire } from "./openai-wire.js";
import type { Reply, Wire, WireContext, WireError } from "./wire.js";

/** Azure's body for a prompt its content filter blocked. */
function contentFilterBody(): string {
  const safe = { filtered: false, severity: "safe" };
  return JSON.stringify({
    error: {
      message:
        "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
      type: null,
      param: "prompt",
      code: "content_filter",
      status: 400,
      innererror: {
        code: "ResponsibleAIPolicyViolation",
        content_filter_result: {
          hate: safe,
          jailbreak: { filtered: false, detected: false },
          self_harm: safe,
          sexual: safe,
          violence: { filtered: true, severity: "medium" },
        },
      },
    },
  });
}

/** Azure's short error body: `{ error: { code, message } }` with the status as the code. */
function azureBody(status: number, message: string, code?: string): string {
  return JSON.stringify({ error: { code: code ?? String(status), message } });
}

/**
 * Azure OpenAI: the Chat Completions wire at `/openai/deployments/{deployment}/chat/completions`
 * (`api-version` query, `api-key` header), with Azure's own error bodies and content-filter
 * results. Answers are OpenAI's.
 */
export const azureWire: Wire = {
  ...openaiWire,
  name: "azure",

  successHeaders(context, stream) {
    const headers = openaiWire.successHeaders(context, stream);
    headers["apim-request-id"] = context.requestId;
    return headers;
  },

  error(error: WireError, context: WireContext): Reply {
    const base = openaiWire.error(error, context);
    const headers = { ...base.headers, "apim-request-id": context.requestId };
    switch (error.kind) {
      case "content-filter":
        return { status: 400, headers, body: contentFilterBody() };
      case "missing-key":
      case "invalid-key":
        return {
          status: 401,
          headers,
          body: azureBody(
            401,
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
          ),
        };
      case "rate-limit": {
        const seconds = Math.max(1, Math.ceil(error.waitMs / 1000));
        return {
          status: 429,
          headers,
          body: azureBody(
            429,
            `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${seconds} seconds.`,
          ),
        };
      }
      case "unknown-route":
        return { status: 404, headers, body: azureBody(404, "Resource not found") };
      default: {
        // Other errors keep OpenAI's body where it is JSON (Azure forwards those).
        return { ...base, headers };
      }
    }
  },
};
