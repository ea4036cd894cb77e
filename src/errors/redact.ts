const KEY_LIKE = /\b(?:sk|sk-ant|sk-proj|gsk|xai)-[A-Za-z0-9_*.-]{4,}/g;

/**
 * Removes from text a server sent back (which may quote the key, even masked) the exact
 * `secret`, then anything shaped like an API key.
 */
export function redactSecrets(text: string, secret: string | undefined): string {
  let out = text;
  if (secret !== undefined && secret.length >= 4 && out.includes(secret)) {
    out = out.split(secret).join("[redacted]");
  }
  // Every key shape has a "-" after its prefix: most texts (a request id) have none to look for.
  return out.includes("-") ? out.replace(KEY_LIKE, "[redacted]") : out;
}

export function redactOptional(
  text: string | undefined,
  secret: string | undefined,
): string | undefined {
  return text === undefined ? undefined : redactSecrets(text, secret);
}
