/**
 * The one error type that crosses module boundaries. `code` is stable and documented; `status` is the
 * HTTP status the HTTP adapter answers with; `details` must never hold a secret or personal data.
 */
export class VigieError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'VigieError';
  }
}

export const notFound = (code: string, what: string): VigieError =>
  new VigieError(code, 404, `${what} not found`);

export const invalid = (code: string, message: string, details?: Record<string, unknown>): VigieError =>
  new VigieError(code, 400, message, details);

export const conflict = (code: string, message: string, details?: Record<string, unknown>): VigieError =>
  new VigieError(code, 409, message, details);

export const forbidden = (code: string, message: string, details?: Record<string, unknown>): VigieError =>
  new VigieError(code, 403, message, details);

export const unauthenticated = (message = 'authentication required'): VigieError =>
  new VigieError('UNAUTHENTICATED', 401, message);
