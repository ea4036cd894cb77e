import {
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  OverloadedError,
  PermissionDeniedError,
  ProviderError,
  type ProviderErrorOptions,
  RateLimitError,
  ServerError,
} from "../../errors/errors.js";

/** A constructor of a provider error class. */
export type ProviderErrorClass = new (options: ProviderErrorOptions) => ProviderError;

/**
 * The error class an HTTP status maps to, before the body refines it: 400/413/422 bad request,
 * 401 authentication, 403 permission, 404 not found, 429 rate limit, 529 overloaded, 408/409 and
 * every 5xx a server error (transient), any other status a plain `ProviderError`.
 */
export function errorClassForStatus(status: number): ProviderErrorClass {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return BadRequestError;
    case 401:
      return AuthenticationError;
    case 403:
      return PermissionDeniedError;
    case 404:
      return NotFoundError;
    case 408:
    case 409:
      return ServerError;
    case 429:
      return RateLimitError;
    case 529:
      return OverloadedError;
    default:
      return status >= 500 ? ServerError : ProviderError;
  }
}
