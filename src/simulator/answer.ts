/** What the simulated model says: text split into deltas, or one tool call. Wire-neutral. */

/** The default answer text. */
export const DEFAULT_TEXT =
  "Hello! This is the retry-client simulator. Every word of this answer arrives as its own token.";

/** A tool the request offered, reduced to what the simulator needs. */
export interface OfferedTool {
  readonly name: string;
  readonly schema: unknown;
}

/** The answer to one request. */
export interface AnswerPlan {
  /** Content deltas: pieces of the text, or of the tool call's arguments JSON. */
  readonly deltas: readonly string[];
  readonly toolCall:
    | { readonly id: string; readonly name: string; readonly arguments: string }
    | undefined;
  readonly finish: "stop" | "length" | "tool";
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** Splits text into word-sized deltas, each carrying its leading whitespace. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** A value that satisfies a JSON schema well enough for a demo tool call. */
export function exampleFromSchema(schema: unknown, depth = 0): unknown {
  if (typeof schema !== "object" || schema === null || depth > 6) return null;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if ("const" in s) return s.const;
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case "string":
      return "example";
    case "number":
      return 1.5;
    case "integer":
      return 1;
    case "boolean":
      return true;
    case "array":
      return [];
    case "null":
      return null;
    default: {
      const props = (typeof s.properties === "object" && s.properties) || {};
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(props as Record<string, unknown>))
        out[key] = exampleFromSchema(value, depth + 1);
      return out;
    }
  }
}

/** Rough token estimate of a request's input (4 characters a token). */
export function estimateTokens(value: unknown): number {
  const text = typeof value === "string" ? value : JSON.stringify(value ?? "");
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Inputs to {@link planAnswer}, extracted from a request by its wire. */
export interface AnswerInputs {
  readonly text: string;
  readonly input: unknown;
  readonly maxTokens: number | undefined;
  /** The tool to call, when the simulated model decides to call one. */
  readonly tool: OfferedTool | undefined;
  /**
   * An assistant prefill (Anthropic: a last message from the assistant): the answer continues
   * after it, so only the rest of the text is sent.
   */
  readonly prefill?: string | undefined;
  readonly toolCallId: string;
}

/** Splits arguments JSON into a few deltas, like providers stream it. */
function chunkArguments(json: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < json.length; i += 8) out.push(json.slice(i, i + 8));
  return out.length > 0 ? out : [""];
}

/**
 * Decides the answer: a call to `tool` when given (its arguments built from its schema),
 * else the text, cut to `maxTokens` deltas (finish `"length"`) when that is smaller.
 */
/** What is left of `text` after `prefill`: the rest when the prefill is its beginning, else all of it. */
function continuation(text: string, prefill: string | undefined): string {
  if (!prefill) return text;
  const trimmed = prefill.trimEnd();
  return text.startsWith(trimmed) ? text.slice(trimmed.length) : text;
}

export function planAnswer(inputs: AnswerInputs): AnswerPlan {
  const inputTokens = estimateTokens(inputs.input);
  if (inputs.tool) {
    const args = JSON.stringify(exampleFromSchema(inputs.tool.schema) ?? {});
    return {
      deltas: chunkArguments(args),
      toolCall: { id: inputs.toolCallId, name: inputs.tool.name, arguments: args },
      finish: "tool",
      inputTokens,
      outputTokens: 10 + estimateTokens(args),
    };
  }
  let deltas = tokenize(continuation(inputs.text, inputs.prefill));
  let finish: AnswerPlan["finish"] = "stop";
  if (inputs.maxTokens !== undefined && inputs.maxTokens >= 0 && inputs.maxTokens < deltas.length) {
    deltas = deltas.slice(0, inputs.maxTokens);
    finish = "length";
  }
  return { deltas, toolCall: undefined, finish, inputTokens, outputTokens: deltas.length };
}
