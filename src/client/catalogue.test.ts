import { describe, expect, it } from "vitest";
import { BUILT_IN_MODELS, DEFAULT_MODELS, ModelCatalogue, providerOf } from "./catalogue.js";

describe("ModelCatalogue", () => {
  it("knows every default model and the windows that decide context-length fallback", () => {
    const catalogue = new ModelCatalogue();
    for (const [provider, model] of Object.entries(DEFAULT_MODELS)) {
      expect(catalogue.get(provider, model)).toBeDefined();
    }
    expect(catalogue.get("openai", "gpt-4o")?.contextWindow).toBe(128_000);
    expect(catalogue.get("openai", "gpt-4.1")?.contextWindow).toBeGreaterThan(1_000_000);
    expect(catalogue.get("anthropic", "claude-sonnet-4-5-20250929")?.prefill).toBe(true);
    expect(catalogue.get("anthropic", "claude-sonnet-4-6")?.prefill).toBe(false);
    expect(BUILT_IN_MODELS.filter((m) => m.provider === "openai").every((m) => !m.prefill)).toBe(
      true,
    );
  });

  it("can be extended and corrected", () => {
    const catalogue = new ModelCatalogue().add({
      provider: "groq",
      model: "llama-3.3-70b",
      contextWindow: 131_072,
      maxOutputTokens: 32_768,
      tools: true,
      vision: false,
      prefill: false,
    });
    expect(catalogue.get("groq", "llama-3.3-70b")?.contextWindow).toBe(131_072);
    expect(catalogue.get("groq", "unknown")).toBeUndefined();
  });

  it("places a model id on its provider by name", () => {
    expect(providerOf("gpt-4o")).toBe("openai");
    expect(providerOf("o3-mini")).toBe("openai");
    expect(providerOf("claude-haiku-4-5-20251001")).toBe("anthropic");
    expect(providerOf("llama-3")).toBeUndefined();
  });
});
