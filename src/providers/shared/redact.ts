const KEY_LIKE = /\b(?:sk|sk-ant|sk-proj|gsk|xai)-[A-Za-z0-9_*.-]{4,}/g;

/**
 * Removes secrets from text a provider sent back (an error message may quote the key, even
 * masked: "Incorrect API key provided: sk-abc***xyz"): the exact `secret`, then anything shaped
 * like an API key.
 */
export function redactSecrets(text: string, secret: string | undefined): string {
  let out = text;
  if (secret !== undefined && secret.length >= 4) out = out.split(secret).join("[redacted]");
  return out.replace(KEY_LIKE, "[redacted]");
}
