import { ConfigurationError } from "../../errors/errors.js";

/** An HTTP header name: an RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters (CR, LF, NUL…) that would break or split a header line. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Checks a base URL: an absolute `http:` or `https:` URL (a query string is allowed and kept).
 * @throws ConfigurationError naming `option`.
 */
export function checkBaseURL(option: string, value: unknown): void {
  if (value === undefined) return;
  let url: URL | undefined;
  if (typeof value === "string") {
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 100)) : typeof value;
    throw new ConfigurationError(
      `invalid ${option}: expected an http:// or https:// URL, got ${shown}`,
      { option },
    );
  }
}

/**
 * Checks extra headers: names are HTTP tokens, values are strings without line breaks.
 * @throws ConfigurationError naming `option` and the header (never its value).
 */
export function checkHeaders(option: string, headers: unknown): void {
  if (headers === undefined) return;
  if (typeof headers !== "object" || headers === null || Array.isArray(headers)) {
    throw new ConfigurationError(
      `invalid ${option}: expected an object of header names to values`,
      {
        option,
      },
    );
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) {
      throw new ConfigurationError(
        `invalid ${option}: ${JSON.stringify(name.slice(0, 60))} is not a valid header name`,
        { option },
      );
    }
    if (typeof value !== "string" || CONTROL.test(value)) {
      throw new ConfigurationError(
        `invalid ${option}: the value of header ${name} must be a string without line breaks or control characters`,
        { option },
      );
    }
  }
}

/**
 * Checks an API key: a string without whitespace at its ends, line breaks or control characters
 * (it goes into a header), or `null` for an endpoint that needs none.
 * @throws ConfigurationError naming `option` (never the key).
 */
export function checkApiKey(option: string, key: unknown): void {
  if (key === undefined || key === null) return;
  if (typeof key !== "string" || CONTROL.test(key) || key !== key.trim()) {
    throw new ConfigurationError(
      `invalid ${option}: an API key must be a string without spaces at its ends, line breaks or control characters (pass null for an endpoint that needs no key)`,
      { option },
    );
  }
}

/** Checks an optional plain string setting (organization, apiVersion, deployment). */
export function checkText(option: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "string" || value === "" || CONTROL.test(value)) {
    throw new ConfigurationError(`invalid ${option}: expected a non-empty string`, { option });
  }
}
