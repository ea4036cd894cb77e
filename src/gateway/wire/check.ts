import type { GenerationOptions, Tool } from "../../index.node.js";
import { GatewayRequestError } from "../failure.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The request body as an object. */
export function asObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new GatewayRequestError(`${path}: expected an object`, path);
  return value as Record<string, unknown>;
}

export function asString(value: unknown, path: string): string {
  if (typeof value !== "string") throw new GatewayRequestError(`${path}: expected a string`, path);
  return value;
}

export function asArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new GatewayRequestError(`${path}: expected an array`, path);
  return value;
}

function optionalNumber(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value))
    throw new GatewayRequestError(`${path}: expected a number`, path);
  return value;
}

/** `max_tokens`-like fields: a positive integer. */
export function optionalMaxTokens(value: unknown, path: string): number | undefined {
  const n = optionalNumber(value, path);
  if (n !== undefined && (!Number.isInteger(n) || n < 1))
    throw new GatewayRequestError(`${path}: expected a positive integer, got ${n}`, path);
  return n;
}

/** Sampling settings shared by both wires, checked and copied into `out`. */
export function samplingOptions(
  body: Record<string, unknown>,
  out: Mutable<GenerationOptions>,
): void {
  const temperature = optionalNumber(body.temperature, "temperature");
  if (temperature !== undefined) out.temperature = temperature;
  const topP = optionalNumber(body.top_p, "top_p");
  if (topP !== undefined) out.topP = topP;
}

/** `stop` / `stop_sequences`: a string or an array of strings. */
export function stopSequences(value: unknown, path: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return [value];
  return asArray(value, path).map((s, i) => asString(s, `${path}[${i}]`));
}

/** A tool in the client's terms. */
export function tool(name: unknown, description: unknown, parameters: unknown, path: string): Tool {
  const out: Mutable<Tool> = {
    name: asString(name, `${path}.name`),
    parameters: parameters === undefined ? { type: "object" } : asObject(parameters, path),
  };
  if (typeof description === "string") out.description = description;
  return out;
}

/** Text of a content that is a string or an array of text parts. */
export function textOf(content: unknown, path: string): string {
  if (typeof content === "string") return content;
  if (content === null || content === undefined) return "";
  return asArray(content, path)
    .map((part, i) => {
      const p = asObject(part, `${path}[${i}]`);
      if (p.type !== "text")
        throw new GatewayRequestError(
          `${path}[${i}].type: expected "text" here, got ${JSON.stringify(p.type)}`,
          `${path}[${i}].type`,
        );
      return asString(p.text, `${path}[${i}].text`);
    })
    .join("");
}

export type { Mutable };
