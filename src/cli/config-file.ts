import type {
  CircuitBreakerOptions,
  ClientConfig,
  ProviderSettings,
  RetryBudgetOptions,
  RetryConfig,
} from "../index.node.js";
import { CliError, EXIT } from "./exit-codes.js";

/**
 * What a value of the config file may be. JSON cannot hold functions or objects such as a state
 * store, so the options that take those are not listed: the file names them as not settable.
 */
type Kind =
  | "string"
  | "string|null"
  | "boolean"
  | "number"
  | { readonly oneOf: readonly string[] }
  | "model-refs"
  | "string-record"
  | "array"
  | "json"
  | { readonly object: Schema }
  | { readonly record: Schema }
  | { readonly objectOrFalse: Schema };

type Schema = Readonly<Record<string, Kind>>;

/**
 * The kind a field of type `T` must be declared with, so that the typecheck catches a schema
 * that no longer matches the library: a string field is "string" (or a `oneOf` for a union of
 * literals), a string-or-null field "string|null", numbers and booleans likewise. Objects and
 * arrays take any structural kind ("json" leaves the check to the library's own validation).
 */
type KindFor<T> = [Exclude<T, undefined>] extends [string]
  ? string extends Exclude<T, undefined>
    ? "string"
    : { readonly oneOf: readonly string[] }
  : [Exclude<T, undefined>] extends [number]
    ? "number"
    : [Exclude<T, undefined>] extends [boolean]
      ? "boolean"
      : [Exclude<T, undefined>] extends [string | null]
        ? "string|null"
        : Exclude<Kind, "string" | "string|null" | "number" | "boolean">;

/** A schema with exactly the fields `K` of `T`, each of the kind its type calls for. */
type SchemaOf<T, K extends keyof T = keyof T> = { readonly [P in K]-?: KindFor<T[P]> };

/** Every value of a string-literal union, checked complete by the typecheck. */
function oneOf<T extends string>(values: Record<T, true>): { readonly oneOf: readonly string[] } {
  return { oneOf: Object.keys(values) };
}

/** Options of `ClientConfig` that JSON cannot hold (functions, live objects). */
const NOT_IN_JSON = [
  "onRetry",
  "onFallback",
  "onCircuitStateChange",
  "onWarning",
  "stateStore",
  "fetch",
  "env",
  "instrumentation",
] as const satisfies readonly (keyof ClientConfig)[];

const PROVIDER: SchemaOf<ProviderSettings> = {
  type: oneOf<NonNullable<ProviderSettings["type"]>>({
    openai: true,
    anthropic: true,
    azure: true,
  }),
  apiKey: "string|null",
  baseURL: "string",
  endpoint: "string",
  apiVersion: "string",
  deployment: "string",
  organization: "string",
  maxTokensField: oneOf<NonNullable<ProviderSettings["maxTokensField"]>>({
    max_tokens: true,
    max_completion_tokens: true,
  }),
  headers: "string-record",
  defaultModel: "string",
};

const RETRY: SchemaOf<RetryConfig, Exclude<keyof RetryConfig, "random">> = {
  maxRetries: "number",
  baseDelayMs: "number",
  maxDelayMs: "number",
  exponentialBase: "number",
  jitter: "number",
  jitterMode: oneOf<NonNullable<RetryConfig["jitterMode"]>>({
    proportional: true,
    full: true,
    decorrelated: true,
  }),
};

const BREAKER: SchemaOf<
  CircuitBreakerOptions,
  Exclude<keyof CircuitBreakerOptions, "store" | "onStateChange" | "initialState" | "isFailure">
> = {
  failureThreshold: "number",
  successThreshold: "number",
  resetTimeoutMs: "number",
  minResetTimeoutMs: "number",
  probeLeaseMs: "number",
  failureRate: { object: { threshold: "number", minimumCalls: "number", windowMs: "number" } },
};

const BUDGET: SchemaOf<RetryBudgetOptions> = {
  ratio: "number",
  minRetriesPerSecond: "number",
  windowMs: "number",
};

type DeploymentGroup = NonNullable<ClientConfig["groups"]>[string];
const GROUP: SchemaOf<DeploymentGroup> = {
  targets: "model-refs",
  strategy: oneOf<NonNullable<DeploymentGroup["strategy"]>>({
    "least-busy": true,
    "round-robin": true,
    latency: true,
    weighted: true,
  }),
  weights: "array",
};

type HedgeOptions = Exclude<NonNullable<ClientConfig["hedge"]>, false>;
const HEDGE: SchemaOf<HedgeOptions> = { afterMs: "number", maxHedges: "number", budget: "number" };

/**
 * Every `ClientConfig` field a JSON file can set. Typed against `ClientConfig`: a field added to
 * the library without a line here (or whose type changed) fails the typecheck, instead of being
 * rejected as unknown at run time. For a new object field, `"json"` is enough when the library
 * validates it.
 */
const CONFIG: SchemaOf<ClientConfig, Exclude<keyof ClientConfig, (typeof NOT_IN_JSON)[number]>> = {
  defaultProvider: "string",
  defaultModel: "string",
  providers: { record: PROVIDER },
  retryEnabled: "boolean",
  retry: { object: RETRY },
  circuitEnabled: "boolean",
  circuitBreaker: { object: BREAKER },
  fallbackEnabled: "boolean",
  fallbackModels: "model-refs",
  fallbackOnContentFilter: "boolean",
  maxRetryAfterMs: "number",
  retryBudget: { objectOrFalse: BUDGET },
  timeoutMs: "number",
  connectTimeoutMs: "number",
  firstTokenTimeoutMs: "number",
  idleTimeoutMs: "number",
  deadlineMs: "number",
  silentTargetMs: "number",
  maxResponseBytes: "number",
  maxSseEventBytes: "number",
  midStreamFailure: oneOf<NonNullable<ClientConfig["midStreamFailure"]>>({
    error: true,
    restart: true,
    continue: true,
  }),
  catalogue: "array",
  groups: { record: GROUP },
  throttling: "boolean",
  hedge: { objectOrFalse: HEDGE },
};

/** The CLI's own keys of the config file (not `ClientConfig` fields); `serve` checks `gateway`. */
const CLI_KEYS: Schema = { state: "string", gateway: "json" };

const typeName = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;

function describeKind(kind: Kind): string {
  if (typeof kind === "string") {
    switch (kind) {
      case "model-refs":
        return 'an array of ["provider", "model"] pairs or { "provider", "model" } objects';
      case "string|null":
        return "a string or null";
      case "json":
        return "JSON";
      case "string-record":
        return "an object of strings";
      case "array":
        return "an array";
      default:
        return `a ${kind}`;
    }
  }
  if ("oneOf" in kind) return `one of ${kind.oneOf.map((v) => JSON.stringify(v)).join(", ")}`;
  if ("objectOrFalse" in kind) return "an object or false";
  return "an object";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function check(kind: Kind, value: unknown, path: string, problems: string[]): void {
  const wrong = () =>
    problems.push(`"${path}" must be ${describeKind(kind)}, got ${typeName(value)}`);
  if (typeof kind === "string") {
    switch (kind) {
      case "string":
      case "boolean":
        if (typeof value !== kind) wrong();
        return;
      case "string|null":
        if (typeof value !== "string" && value !== null) wrong();
        return;
      case "json":
        return;
      case "number":
        if (typeof value !== "number") wrong();
        return;
      case "string-record":
        if (!isObject(value) || Object.values(value).some((v) => typeof v !== "string")) wrong();
        return;
      case "array":
        if (!Array.isArray(value)) wrong();
        return;
      case "model-refs": {
        const ok =
          Array.isArray(value) &&
          value.every(
            (ref) =>
              (Array.isArray(ref) &&
                ref.length === 2 &&
                ref.every((part) => typeof part === "string")) ||
              (isObject(ref) && typeof ref.provider === "string" && typeof ref.model === "string"),
          );
        if (!ok) wrong();
        return;
      }
    }
  }
  if ("oneOf" in kind) {
    if (!kind.oneOf.includes(value as string)) wrong();
    return;
  }
  if ("objectOrFalse" in kind) {
    if (value === false) return;
    if (!isObject(value)) return void wrong();
    checkObject(kind.objectOrFalse, value, `${path}.`, problems);
    return;
  }
  if (!isObject(value)) return void wrong();
  if ("object" in kind) checkObject(kind.object, value, `${path}.`, problems);
  else
    for (const [name, entry] of Object.entries(value)) {
      if (!isObject(entry)) {
        problems.push(`"${path}.${name}" must be an object, got ${typeName(entry)}`);
        continue;
      }
      checkObject(kind.record, entry, `${path}.${name}.`, problems);
    }
}

function checkObject(
  schema: Schema,
  value: Record<string, unknown>,
  prefix: string,
  problems: string[],
): void {
  for (const [key, entry] of Object.entries(value)) {
    const kind = schema[key];
    if (kind === undefined) {
      const known = Object.keys(schema);
      const near = known.find((k) => closeTo(k, key));
      problems.push(
        prefix === "" && (NOT_IN_JSON as readonly string[]).includes(key)
          ? `"${key}" cannot be set in a config file (it takes a function or an object)`
          : `unknown key "${prefix}${key}"${near ? ` (did you mean "${prefix}${near}"?)` : ""}`,
      );
      continue;
    }
    check(kind, entry, `${prefix}${key}`, problems);
  }
}

/** Edit distance at most 2, or one contains the other ignoring case: a likely typo. */
function closeTo(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x.includes(y) || y.includes(x)) return Math.min(x.length, y.length) >= 4;
  const row = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min(
        (row[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        previous + (x[i - 1] === y[j - 1] ? 0 : 1),
      );
      previous = current;
    }
  }
  return (row[y.length] ?? 99) <= 2;
}

/**
 * Checks the parsed config file: every key known, every value of the right JSON type.
 *
 * @throws CliError (exit 2) naming the file and each key at fault.
 */
export function validateConfigFile(path: string, value: Record<string, unknown>): void {
  const problems: string[] = [];
  checkObject({ ...CONFIG, ...CLI_KEYS }, value, "", problems);
  if (problems.length === 0) return;
  throw new CliError(
    `config file ${path}: ${problems.length === 1 ? problems[0] : `\n  - ${problems.join("\n  - ")}`}`,
    EXIT.usage,
  );
}
