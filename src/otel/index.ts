/**
 * retry-client/otel: OpenTelemetry traces and metrics for every call, following the GenAI
 * semantic conventions. Needs the optional peer dependency `@opentelemetry/api` (>= 1.9 < 2);
 * the main entry never loads it.
 *
 * @example
 * import { RetryClient } from "retry-client";
 * import { openTelemetry } from "retry-client/otel";
 * const client = new RetryClient({ instrumentation: [openTelemetry({ captureContent: false })] });
 *
 * @packageDocumentation
 */
export {
  INSTRUMENTATION_SCOPE,
  type OpenTelemetryOptions,
  openTelemetry,
  SEMCONV_VERSION,
} from "./open-telemetry.js";
