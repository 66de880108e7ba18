/**
 * Errors of the mesh, one class per kind, parsed from any envelope the gateway speaks:
 * 003 `{"error": {code, message, details, suggestion}}`, 004 `{"success": false, "error": {code,
 * message, details}}`, OpenAI `{"error": {message, type, code, reason}}` and KServe `{"error": "..."}`.
 * Errors sent inside an event stream become the same classes.
 */

/** The canonical error codes of documents 003 and 004. */
export const ERROR_CODES = [
  "INVALID_INPUT",
  "MODEL_NOT_FOUND",
  "MODEL_LOAD_FAILED",
  "INFERENCE_FAILED",
  "PLUGIN_NOT_FOUND",
  "PLUGIN_LOAD_FAILED",
  "RATE_LIMIT_EXCEEDED",
  "INSUFFICIENT_MEMORY",
  "BACKEND_UNAVAILABLE",
  "AUTHENTICATION_FAILED",
  "PERMISSION_DENIED",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number] | (string & {});

export interface ErrorFields {
  code: ErrorCode;
  details: Record<string, unknown>;
  requestId: string;
  status?: number;
  suggestion?: string;
  retryAfter?: number;
}

/** Any error the mesh reported, or a request that could not reach it (`status` undefined). */
export class MeshserveError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly requestId: string;
  readonly status?: number;
  readonly suggestion?: string;

  constructor(message: string, fields: ErrorFields) {
    super(message);
    this.name = new.target.name;
    this.code = fields.code;
    this.details = fields.details;
    this.requestId = fields.requestId;
    this.status = fields.status;
    this.suggestion = fields.suggestion;
  }
}

export class InvalidInputError extends MeshserveError {}
export class AuthenticationError extends MeshserveError {}
export class PermissionDeniedError extends MeshserveError {}
export class ModelNotFoundError extends MeshserveError {}
export class PluginNotFoundError extends MeshserveError {}
export class ModelLoadError extends MeshserveError {}
export class InferenceError extends MeshserveError {}
export class InsufficientMemoryError extends MeshserveError {}
export class BackendUnavailableError extends MeshserveError {}
/** 429: `retryAfter` is the seconds the server asked to wait. */
export class RateLimitError extends MeshserveError {
  readonly retryAfter: number;
  constructor(message: string, fields: ErrorFields) {
    super(message, fields);
    this.retryAfter = fields.retryAfter ?? 0;
  }
}
/** The request was aborted (`AbortSignal`) or timed out. */
export class AbortedError extends MeshserveError {}
/** The mesh could not be reached. */
export class ConnectionError extends MeshserveError {}

const CLASS_OF_CODE: Record<string, typeof MeshserveError> = {
  INVALID_INPUT: InvalidInputError,
  MODEL_NOT_FOUND: ModelNotFoundError,
  MODEL_LOAD_FAILED: ModelLoadError,
  INFERENCE_FAILED: InferenceError,
  PLUGIN_NOT_FOUND: PluginNotFoundError,
  PLUGIN_LOAD_FAILED: ModelLoadError,
  RATE_LIMIT_EXCEEDED: RateLimitError,
  INSUFFICIENT_MEMORY: InsufficientMemoryError,
  BACKEND_UNAVAILABLE: BackendUnavailableError,
  AUTHENTICATION_FAILED: AuthenticationError,
  PERMISSION_DENIED: PermissionDeniedError,
};

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: "INVALID_INPUT",
  401: "AUTHENTICATION_FAILED",
  403: "PERMISSION_DENIED",
  404: "MODEL_NOT_FOUND",
  429: "RATE_LIMIT_EXCEEDED",
  503: "BACKEND_UNAVAILABLE",
};

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** The error an envelope (or an error event of a stream) describes. */
export function errorFrom(
  body: unknown,
  status: number | undefined,
  requestId = "",
  retryAfter?: number,
): MeshserveError {
  const top = record(body);
  const nested = record(top.error);
  const text = typeof top.error === "string" ? top.error : "";
  const code = String(
    nested.reason ?? nested.code ?? top.code ?? (status ? CODE_OF_STATUS[status] : undefined) ?? "INFERENCE_FAILED",
  ).toUpperCase();
  const message = String(nested.message ?? top.message ?? top.detail ?? text ?? "") || `request failed (${status})`;
  const details = record(nested.details ?? top.details);
  const fields: ErrorFields = {
    code,
    details,
    requestId: String(nested.request_id ?? top.request_id ?? details.request_id ?? requestId ?? ""),
    status,
    suggestion: typeof nested.suggestion === "string" ? nested.suggestion : undefined,
    retryAfter,
  };
  const Kind = CLASS_OF_CODE[code] ?? MeshserveError;
  return new Kind(message, fields);
}
