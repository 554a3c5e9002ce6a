/**
 * The one error type the web app sees from the network. The control plane answers every failure
 * with `{"detail": "<message>", "code": "<snake_code>"}`; anything else (a proxy's HTML page, an
 * empty body, a dropped connection) is folded into the same shape so screens handle one thing.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** Codes the web app produces itself, when the server did not supply one. */
export const CLIENT_ERROR_CODES = {
  http: "http_error",
  network: "network_error",
  unexpected: "unexpected_error",
} as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fallbackMessage(status: number, statusText: string): string {
  return statusText.trim() || `Request failed with status ${status}.`;
}

/** Builds an ApiError from a failed response's status and its (possibly non-JSON) body text. */
export function apiErrorFromBody(status: number, statusText: string, bodyText: string): ApiError {
  let body: unknown = null;
  try {
    body = JSON.parse(bodyText);
  } catch {
    // Not JSON: the status text is the best message we have.
  }
  const detail = isRecord(body) ? body.detail : undefined;
  const code = isRecord(body) ? body.code : undefined;
  return new ApiError(
    status,
    typeof code === "string" && code ? code : CLIENT_ERROR_CODES.http,
    typeof detail === "string" && detail ? detail : fallbackMessage(status, statusText),
  );
}

/** Normalises anything thrown around a request (including non-errors) into an ApiError. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof TypeError) {
    return new ApiError(0, CLIENT_ERROR_CODES.network, "Could not reach the server. Check your connection and try again.");
  }
  const message = error instanceof Error && error.message ? error.message : "Something went wrong.";
  return new ApiError(0, CLIENT_ERROR_CODES.unexpected, message);
}

export function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}
