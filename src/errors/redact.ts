const KEY_LIKE = /\b(?:sk|sk-ant|sk-proj|gsk|xai)-[A-Za-z0-9_*.-]{4,}/g;

/**
 * Removes secrets from text a server sent back (an error message, code or type, a request id
 * may quote the key, even masked: "Incorrect API key provided: sk-abc***xyz"): the exact
 * `secret`, then anything shaped like an API key.
 *
 * @example
 * redactSecrets("bad key sk-abc123456", undefined) // "bad key [redacted]"
 */
export function redactSecrets(text: string, secret: string | undefined): string {
  let out = text;
  if (secret !== undefined && secret.length >= 4 && out.includes(secret)) {
    out = out.split(secret).join("[redacted]");
  }
  return out.replace(KEY_LIKE, "[redacted]");
}

/** {@link redactSecrets} for an optional value. */
export function redactOptional(
  text: string | undefined,
  secret: string | undefined,
): string | undefined {
  return text === undefined ? undefined : redactSecrets(text, secret);
}
