import pc from "picocolors";

/** Colour functions (identity when colour is off). */
export type Colors = ReturnType<typeof pc.createColors>;

/** Something text can be written to. */
export interface Sink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * Where the CLI writes. stdout holds only answers (and `--json` objects); everything else goes to
 * stderr. Every write passes through redaction of the secrets the CLI knows (API keys), so a key
 * never reaches the terminal, a pipe or a log.
 */
export class Output {
  /** Colours for stdout text. */
  readonly color: Colors;
  /** Colours for stderr text. */
  readonly errColor: Colors;
  readonly #stdout: Sink;
  readonly #stderr: Sink;
  #secrets: string[] = [];

  constructor(stdout: Sink = process.stdout, stderr: Sink = process.stderr) {
    this.#stdout = stdout;
    this.#stderr = stderr;
    const noColor = "NO_COLOR" in process.env && process.env.NO_COLOR !== "";
    const force = process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0";
    this.color = pc.createColors(force || (!noColor && stdout.isTTY === true));
    this.errColor = pc.createColors(force || (!noColor && stderr.isTTY === true));
  }

  /** Whether stderr is a terminal (spinners only go there). */
  get stderrIsTTY(): boolean {
    return this.#stderr.isTTY === true;
  }

  /** Whether stdout is a terminal. */
  get stdoutIsTTY(): boolean {
    return this.#stdout.isTTY === true;
  }

  /** Adds secrets to hide from every later write (values shorter than 4 characters are ignored). */
  addSecrets(secrets: readonly (string | undefined)[]): void {
    for (const s of secrets)
      if (s && s.length >= 4 && !this.#secrets.includes(s)) this.#secrets.push(s);
    this.#secrets.sort((a, b) => b.length - a.length);
  }

  /** `text` with every known secret replaced by `[redacted]`. */
  redact(text: string): string {
    let out = text;
    for (const s of this.#secrets) if (out.includes(s)) out = out.split(s).join("[redacted]");
    return out;
  }

  /** Writes to stdout (answers, tables, JSON). */
  out(text: string): void {
    this.#stdout.write(this.redact(text));
  }

  /** Writes to stderr (diagnostics, progress, errors). */
  err(text: string): void {
    this.#stderr.write(this.redact(text));
  }

  /** Prints one JSON object on its own line to stdout. */
  json(value: unknown): void {
    this.out(`${JSON.stringify(value, jsonReplacer)}\n`);
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
