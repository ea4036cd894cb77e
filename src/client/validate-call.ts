import { InvalidRequestError } from "../errors/invalid-request-error.js";
import type { ChatMessage, ContentPart, ToolCall } from "../types.js";
import type { CallOptions } from "./types.js";

/** A tool call in the OpenAI Chat Completions shape (`tool_calls` of an assistant message). */
export interface OpenAIStyleToolCall {
  readonly id: string;
  readonly type?: "function" | undefined;
  readonly function: { readonly name: string; readonly arguments: string };
}

/** A text part as OpenAI sends it in system, developer, assistant and tool messages. */
export interface OpenAIStyleTextPart {
  readonly type: "text";
  readonly text: string;
}

/**
 * Messages in the OpenAI Chat Completions shape, accepted by `complete()`, `chat()` and
 * `stream()` and translated to the neutral format (so they work against every provider):
 * role `developer` is a system message, `tool_calls` are the assistant's tool calls and
 * `tool_call_id` answers one of them.
 */
export type OpenAIStyleMessage =
  | {
      readonly role: "developer";
      readonly content: string | readonly OpenAIStyleTextPart[];
    }
  | {
      readonly role: "assistant";
      readonly content?: string | readonly OpenAIStyleTextPart[] | null | undefined;
      readonly tool_calls?: readonly OpenAIStyleToolCall[] | undefined;
    }
  | {
      readonly role: "tool";
      readonly tool_call_id: string;
      readonly content: string | readonly OpenAIStyleTextPart[];
    };

/** A message as the client accepts it: the neutral format, or the OpenAI shape. */
export type MessageInput = ChatMessage | OpenAIStyleMessage;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? "a string" : JSON.stringify(value);
  if (typeof value === "object") return "an object";
  if (typeof value === "bigint") return "a bigint";
  return `${typeof value === "undefined" ? "" : `${typeof value} `}${String(value)}`.trim();
}

function fail(path: string, expected: string, value: unknown): never {
  throw new InvalidRequestError(path, `expected ${expected}, got ${describe(value)}`);
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

function nonEmptyString(path: string, value: unknown): string {
  if (typeof value !== "string" || value === "") fail(path, "a non-empty string", value);
  return value;
}

/** Text, or a list of text parts joined (what OpenAI allows in non-user messages). */
function textOf(path: string, value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    let text = "";
    for (let i = 0; i < value.length; i++) {
      const part = value[i] as unknown;
      if (!isObject(part) || part.type !== "text" || !isString(part.text)) {
        fail(`${path}[${i}]`, 'a text part { type: "text", text }', part);
      }
      text += part.text;
    }
    return text;
  }
  return fail(path, "a string", value);
}

function contentPart(path: string, part: unknown): ContentPart {
  if (!isObject(part)) return fail(path, "a content part object", part);
  switch (part.type) {
    case "text":
      if (!isString(part.text)) fail(`${path}.text`, "a string", part.text);
      return part as unknown as ContentPart;
    case "image":
      if ("url" in part && part.url !== undefined) {
        nonEmptyString(`${path}.url`, part.url);
        return part as unknown as ContentPart;
      }
      nonEmptyString(`${path}.data`, part.data);
      nonEmptyString(`${path}.mediaType`, part.mediaType);
      return part as unknown as ContentPart;
    case "image_url": {
      // The OpenAI shape: { type: "image_url", image_url: { url } }.
      const image = part.image_url;
      const url = isObject(image) ? image.url : undefined;
      return { type: "image", url: nonEmptyString(`${path}.image_url.url`, url) };
    }
    default:
      return fail(`${path}.type`, '"text" or "image"', part.type);
  }
}

function userContent(path: string, value: unknown): string | readonly ContentPart[] {
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) return fail(path, "a string or an array of content parts", value);
  let changed = false;
  const parts = value.map((part: unknown, i) => {
    const checked = contentPart(`${path}[${i}]`, part);
    if (checked !== part) changed = true;
    return checked;
  });
  return changed ? parts : (value as ContentPart[]);
}

function toolCall(path: string, value: unknown): ToolCall {
  if (!isObject(value)) return fail(path, "a tool call object", value);
  const fn = value.function;
  if (isObject(fn)) {
    // The OpenAI shape: { id, type: "function", function: { name, arguments } }.
    const args = fn.arguments ?? "";
    if (!isString(args)) fail(`${path}.function.arguments`, "a JSON string", args);
    return {
      id: nonEmptyString(`${path}.id`, value.id),
      name: nonEmptyString(`${path}.function.name`, fn.name),
      arguments: args,
    };
  }
  nonEmptyString(`${path}.id`, value.id);
  nonEmptyString(`${path}.name`, value.name);
  if (!isString(value.arguments)) fail(`${path}.arguments`, "a JSON string", value.arguments);
  return value as unknown as ToolCall;
}

/** One message checked, in the neutral format (the same object when it already was). */
function message(path: string, value: unknown): ChatMessage {
  if (!isObject(value)) return fail(path, "a message object", value);
  const role = value.role;
  switch (role) {
    case "system":
    case "developer": {
      const content = textOf(`${path}.content`, value.content);
      return role === "system" && content === value.content
        ? (value as unknown as ChatMessage)
        : { role: "system", content };
    }
    case "user": {
      const content = userContent(`${path}.content`, value.content);
      return content === value.content ? (value as unknown as ChatMessage) : { role, content };
    }
    case "assistant": {
      const camel = value.toolCalls;
      const snake = value.tool_calls;
      if (camel !== undefined && snake !== undefined) {
        throw new InvalidRequestError(
          `${path}.tool_calls`,
          "give toolCalls or tool_calls, not both",
        );
      }
      const calls = camel ?? snake;
      const callsPath = `${path}.${camel !== undefined ? "toolCalls" : "tool_calls"}`;
      if (calls !== undefined && !Array.isArray(calls)) {
        fail(callsPath, "an array of tool calls", calls);
      }
      const list = (calls ?? []) as unknown[];
      const checked = list.map((c, i) => toolCall(`${callsPath}[${i}]`, c));
      const raw = value.content;
      // An assistant turn that only calls tools may have no text (OpenAI sends null).
      const content =
        (raw === null || raw === undefined) && checked.length > 0
          ? ""
          : textOf(`${path}.content`, raw);
      const same = content === raw && snake === undefined && checked.every((c, i) => c === list[i]);
      if (same) return value as unknown as ChatMessage;
      return checked.length > 0
        ? { role: "assistant", content, toolCalls: checked }
        : { role: "assistant", content };
    }
    case "tool": {
      const camel = value.toolCallId;
      const id = nonEmptyString(
        `${path}.${camel !== undefined ? "toolCallId" : "tool_call_id"}`,
        camel ?? value.tool_call_id,
      );
      const content = textOf(`${path}.content`, value.content);
      return camel === id && content === value.content
        ? (value as unknown as ChatMessage)
        : { role: "tool", toolCallId: id, content };
    }
    default:
      return fail(`${path}.role`, '"system", "developer", "user", "assistant" or "tool"', role);
  }
}

/**
 * Checks a call's messages and returns them in the neutral format: the same array when every
 * message already was; a translated copy when some came in the OpenAI shape.
 *
 * @throws InvalidRequestError naming the path of the first problem.
 */
export function validateMessages(messages: unknown): readonly ChatMessage[] {
  if (!Array.isArray(messages)) {
    return fail(
      "messages",
      typeof messages === "string"
        ? "an array of messages (for one user message use chat(text) or [Message.user(text)])"
        : "an array of messages",
      messages,
    );
  }
  if (messages.length === 0) {
    throw new InvalidRequestError("messages", "expected at least one message, got none");
  }
  let out: ChatMessage[] | undefined;
  for (let i = 0; i < messages.length; i++) {
    const original = messages[i] as unknown;
    // The common shape, taken as it is without building the path of an error: text from the
    // user or the system.
    if (
      isObject(original) &&
      typeof original.content === "string" &&
      (original.role === "user" || original.role === "system")
    ) {
      out?.push(original as unknown as ChatMessage);
      continue;
    }
    const checked = message(`messages[${i}]`, original);
    if (checked !== original && out === undefined) out = messages.slice(0, i) as ChatMessage[];
    out?.push(checked);
  }
  return out ?? (messages as ChatMessage[]);
}

/**
 * The first place in `value` that `JSON.stringify` cannot send (a cycle, a BigInt), or
 * undefined when it can be sent.
 */
function unsendable(value: unknown, path: string, ancestors: unknown[]): string | undefined {
  if (typeof value === "bigint") return `${path}: a BigInt cannot be sent as JSON`;
  if (typeof value !== "object" || value === null) return undefined;
  if (ancestors.includes(value))
    return `${path}: refers to itself (a cycle cannot be sent as JSON)`;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return undefined;
  ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const found = unsendable(value[i], `${path}[${i}]`, ancestors);
        if (found) return found;
      }
    } else {
      for (const key of Object.keys(value)) {
        const found = unsendable((value as Json)[key], `${path}.${key}`, ancestors);
        if (found) return found;
      }
    }
    return undefined;
  } finally {
    ancestors.pop();
  }
}

function checkSendable(path: string, value: unknown): void {
  const found = unsendable(value, path, []);
  if (found !== undefined) {
    const at = found.indexOf(": ");
    throw new InvalidRequestError(found.slice(0, at), found.slice(at + 2));
  }
}

function optionalNumber(
  name: string,
  value: unknown,
  expected: string,
  ok: (n: number) => boolean,
): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !ok(value)) fail(name, expected, value);
}

/**
 * Checks the generation options of a call (what is sent to the provider): model and provider
 * names, token and sampling numbers, stop sequences, tools, tool choice, response format and
 * raw provider options (which must be sendable as JSON).
 *
 * @throws InvalidRequestError naming the option at fault.
 */
export function validateCallOptions(options: CallOptions): void {
  if (!isObject(options)) fail("options", "an options object", options);
  if (options.model !== undefined) nonEmptyString("model", options.model);
  if (options.provider !== undefined) nonEmptyString("provider", options.provider);
  optionalNumber(
    "maxTokens",
    options.maxTokens,
    "a positive integer",
    (n) => Number.isInteger(n) && n > 0,
  );
  optionalNumber(
    "temperature",
    options.temperature,
    "a number ≥ 0",
    (n) => Number.isFinite(n) && n >= 0,
  );
  optionalNumber("topP", options.topP, "a number from 0 to 1", (n) => n >= 0 && n <= 1);
  const stop = options.stop as unknown;
  if (stop !== undefined) {
    if (!Array.isArray(stop)) fail("stop", "an array of strings", stop);
    stop.forEach((s: unknown, i) => {
      if (!isString(s)) fail(`stop[${i}]`, "a string", s);
    });
  }
  const tools = options.tools as unknown;
  if (tools !== undefined) {
    if (!Array.isArray(tools)) fail("tools", "an array of tools", tools);
    tools.forEach((tool: unknown, i) => {
      if (!isObject(tool)) fail(`tools[${i}]`, "a tool { name, parameters }", tool);
      nonEmptyString(`tools[${i}].name`, tool.name);
      if (tool.description !== undefined && !isString(tool.description)) {
        fail(`tools[${i}].description`, "a string", tool.description);
      }
      if (!isObject(tool.parameters)) {
        fail(`tools[${i}].parameters`, "a JSON Schema object", tool.parameters);
      }
      checkSendable(`tools[${i}].parameters`, tool.parameters);
    });
  }
  const choice = options.toolChoice as unknown;
  if (choice !== undefined && choice !== "auto" && choice !== "none" && choice !== "required") {
    if (!isObject(choice)) fail("toolChoice", '"auto", "none", "required" or { name }', choice);
    nonEmptyString("toolChoice.name", choice.name);
  }
  const format = options.responseFormat as unknown;
  if (format !== undefined) {
    if (!isObject(format)) fail("responseFormat", "a response format object", format);
    if (format.type === "json_schema") {
      nonEmptyString("responseFormat.name", format.name);
      if (!isObject(format.schema))
        fail("responseFormat.schema", "a JSON Schema object", format.schema);
      checkSendable("responseFormat.schema", format.schema);
    } else if (format.type !== "text" && format.type !== "json_object") {
      fail("responseFormat.type", '"text", "json_object" or "json_schema"', format.type);
    }
  }
  const raw = options.providerOptions as unknown;
  if (raw !== undefined) {
    if (!isObject(raw)) fail("providerOptions", "an object of options per provider", raw);
    for (const [name, value] of Object.entries(raw)) {
      if (value === undefined) continue;
      if (!isObject(value)) fail(`providerOptions.${name}`, "an object of body fields", value);
      checkSendable(`providerOptions.${name}`, value);
    }
  }
}
