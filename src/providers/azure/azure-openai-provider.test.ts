import { describe, expect, it } from "vitest";
import { ConfigurationError, ContentFilterError } from "../../errors/errors.js";
import type { Transport, TransportRequest } from "../../http/transport.js";
import { isReasoningModel, OpenAIProvider } from "../openai/openai-provider.js";
import { AzureOpenAIProvider } from "./azure-openai-provider.js";

const ANSWER = JSON.stringify({
  id: "x",
  model: "gpt-4o",
  choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
});

/** A transport that records requests and answers with `status` / `body`. */
function recording(status = 200, body = ANSWER) {
  const sent: TransportRequest[] = [];
  const transport: Transport = {
    request: async (request) => {
      sent.push(request);
      return {
        status,
        headers: {},
        text: async () => body,
        async *stream() {},
        cancel: () => {},
      };
    },
  };
  return { sent, transport };
}

const hi = [{ role: "user" as const, content: "hi" }];

describe("AzureOpenAIProvider", () => {
  it("calls the deployment URL with api-version and the key in api-key", async () => {
    const { sent, transport } = recording();
    const azure = new AzureOpenAIProvider({
      endpoint: "https://res.openai.azure.com/",
      apiKey: "az",
      transport,
    });
    await azure.complete(hi, { model: "gpt-4o" });
    expect(sent[0]!.url).toBe(
      "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
    );
    expect(sent[0]!.headers).toMatchObject({ "api-key": "az" });
    expect(sent[0]!.headers).not.toHaveProperty("authorization");
  });

  it("reads AZURE_OPENAI_* for the provider named azure; a deployment and a base URL win", async () => {
    const { sent, transport } = recording();
    const env = {
      AZURE_OPENAI_API_KEY: "from-env",
      AZURE_OPENAI_ENDPOINT: "https://env.openai.azure.com",
      OPENAI_API_VERSION: "2025-01-01-preview",
    };
    await new AzureOpenAIProvider({ env, transport, deployment: "prod" }).complete(hi, {
      model: "gpt-4o",
    });
    expect(sent[0]!.url).toBe(
      "https://env.openai.azure.com/openai/deployments/prod/chat/completions?api-version=2025-01-01-preview",
    );
    expect(sent[0]!.headers["api-key"]).toBe("from-env");
    await new AzureOpenAIProvider({
      apiKey: "k",
      transport,
      baseURL: "https://gw.example.com/openai/deployments/fixed?api-version=2024-06-01",
    }).complete(hi, { model: "anything" });
    expect(sent[1]!.url).toBe(
      "https://gw.example.com/openai/deployments/fixed/chat/completions?api-version=2024-06-01",
    );
  });

  it("no endpoint anywhere: ConfigurationError naming the option and the variable", () => {
    let error: unknown;
    try {
      new AzureOpenAIProvider({ env: {}, apiKey: "k" });
    } catch (e) {
      error = e;
    }
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect(String(error)).toMatch(/endpoint.*AZURE_OPENAI_ENDPOINT/);
  });

  it("maps Azure's content-filter body to ContentFilterError", async () => {
    const body = JSON.stringify({
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        type: null,
        param: "prompt",
        code: "content_filter",
        status: 400,
        innererror: { code: "ResponsibleAIPolicyViolation", content_filter_result: {} },
      },
    });
    const { transport } = recording(400, body);
    const azure = new AzureOpenAIProvider({
      endpoint: "https://r.openai.azure.com",
      apiKey: "k",
      transport,
    });
    const error = await azure.complete(hi, { model: "gpt-4o" }).catch((e: unknown) => e);
    expect(ContentFilterError.isInstance(error)).toBe(true);
  });
});

describe("OpenAI-compatible details", () => {
  it("reasoning families by model id, whatever the host or a router prefix", () => {
    for (const model of [
      "o1",
      "o1-mini",
      "o3-mini",
      "o4-mini-2025-04-16",
      "gpt-5",
      "gpt-5-mini",
      "openai/o3",
      "GPT-5.1",
    ]) {
      expect(isReasoningModel(model), model).toBe(true);
    }
    for (const model of ["gpt-4o", "gpt-4.1-mini", "omni-moderation", "llama3.2", "gpt-50x"]) {
      expect(isReasoningModel(model), model).toBe(false);
    }
  });

  it("apiKey: null sends no authorization header; a base URL's query is kept", async () => {
    const { sent, transport } = recording();
    const local = new OpenAIProvider({
      name: "local",
      apiKey: null,
      baseURL: "http://127.0.0.1:11434/v1/?x=1",
      transport,
      env: {},
    });
    expect(local.hasKey).toBe(true);
    await local.complete(hi, { model: "llama3.2" });
    expect(sent[0]!.url).toBe("http://127.0.0.1:11434/v1/chat/completions?x=1");
    expect(sent[0]!.headers).not.toHaveProperty("authorization");
  });
});
