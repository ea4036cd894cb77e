/** Secret removal lives with the errors (every provider error is redacted where it is built). */
export { redactSecrets } from "../../errors/redact.js";
