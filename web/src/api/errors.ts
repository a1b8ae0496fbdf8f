/**
 * The errors the API layer throws; every failed call ends as one of these.
 *
 *   ApiError            anything that went wrong talking to VTM
 *   ├── HttpError       the server answered with a non-2xx status (code, message, per-field errors)
 *   └── NetworkError    no answer at all: server down, restarting, connection refused
 */
import type { FieldErrorInfo } from "./types";

export class ApiError extends Error {
  override name = "ApiError";
}

export class HttpError extends ApiError {
  override name = "HttpError";

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: readonly FieldErrorInfo[] = [],
  ) {
    super(message);
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }

  get isValidation(): boolean {
    return this.status === 422;
  }
}

export class NetworkError extends ApiError {
  override name = "NetworkError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fieldErrors(value: unknown): FieldErrorInfo[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) =>
    isRecord(item) && typeof item.field === "string" && typeof item.message === "string"
      ? [{ field: item.field, message: item.message }]
      : [],
  );
}

/**
 * The typed error for a failed response. VTM always answers `{"error": {code, message, fields}}`,
 * but a proxy in front of it (or a server mid-restart) may not, so anything else still becomes an
 * HttpError with a generic code and the status line as its message.
 */
export function httpErrorOf(response: Response, body: unknown): HttpError {
  const detail = isRecord(body) && isRecord(body.error) ? body.error : null;
  if (detail && typeof detail.code === "string" && typeof detail.message === "string") {
    return new HttpError(response.status, detail.code, detail.message, fieldErrors(detail.fields));
  }
  const text = typeof body === "string" && body.length < 200 ? body.trim() : "";
  const fallback = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  return new HttpError(response.status, "http_error", text || fallback);
}

/** A short sentence for people, whatever was thrown. */
export function describeError(error: unknown): string {
  if (error instanceof NetworkError) return "The VTM server cannot be reached.";
  if (error instanceof Error) return error.message;
  return String(error);
}
