/**
 * HTTP to the gateway over the built-in `fetch`: JSON requests, Server-Sent Events read as an async
 * iterator, rate-limit headers kept, and retries with exponential backoff and full jitter on 429 and
 * 503 that wait at least what `Retry-After` says. An `AbortSignal` ends a call, and a stream's
 * connection with it: the mesh then frees the generation's batch slot.
 */
import { AbortedError, ConnectionError, errorFrom, MeshserveError } from "./errors.js";

export interface ClientOptions {
  /** The gateway; default `MESHSERVE_BASE_URL`, else `http://localhost:8000`. */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer <apiKey>`; default `MESHSERVE_API_KEY`. */
  apiKey?: string;
  /** Retries of a 429 or 503 answer (and of a refused connection); default 3. */
  maxRetries?: number;
  /** Deadline of one non-streamed call in milliseconds; default 120000. */
  timeoutMs?: number;
}

/** The `X-RateLimit-*` headers of the latest answer. */
export interface RateLimit {
  limit?: number;
  remaining?: number;
  reset?: number;
}

const RETRY_STATUSES = new Set([429, 503]);

function env(name: string): string | undefined {
  const process = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return process?.env?.[name] || undefined;
}

/** The documents' own server address in their examples (`http://localhost:5000`). */
const DOCUMENTED_ADDRESS = /^(https?|wss?):\/\/localhost:5000\/?$/;

/** The gateway address every client and `io()` use unless told otherwise. */
export function defaultBaseUrl(): string {
  return (env("MESHSERVE_BASE_URL") ?? "http://localhost:8000").replace(/\/+$/, "");
}

/**
 * The address to call: the documents' example address means "the mesh" (`MESHSERVE_BASE_URL`, else
 * `http://localhost:8000`), so their code runs unchanged; any other address is kept.
 */
export function resolveBaseUrl(address?: string): string {
  if (address === undefined || DOCUMENTED_ADDRESS.test(address)) return defaultBaseUrl();
  return address.replace(/\/+$/, "");
}

function number(value: string | null): number | undefined {
  if (value === null || value === "") return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Seconds a `Retry-After` header asks to wait (delta seconds or an HTTP date). */
export function retryAfterSeconds(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = number(value);
  if (seconds !== undefined) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

/** Full-jitter exponential backoff, never shorter than what the server asked for. */
export function backoffMs(attempt: number, retryAfter?: number): number {
  const jitter = Math.random() * Math.min(8000, 250 * 2 ** attempt);
  return Math.max(jitter, (retryAfter ?? 0) * 1000);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function aborted(signal?: AbortSignal): AbortedError {
  const timeout = signal?.reason instanceof Error && signal.reason.name === "TimeoutError";
  return new AbortedError(timeout ? "the request timed out" : "the request was aborted", {
    code: timeout ? "DEADLINE_EXCEEDED" : "CANCELLED",
    details: {},
    requestId: "",
  });
}

export class Transport {
  readonly baseUrl: string;
  readonly apiKey?: string;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  /** The rate-limit headers of the latest answer that had them. */
  rateLimit: RateLimit = {};

  constructor(options: ClientOptions = {}) {
    this.baseUrl = resolveBaseUrl(options.baseUrl);
    this.apiKey = options.apiKey ?? env("MESHSERVE_API_KEY");
    this.maxRetries = options.maxRetries ?? 3;
    this.timeoutMs = options.timeoutMs ?? 120_000;
  }

  /** Headers of every request. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { Accept: "application/json", ...extra };
    if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
    return headers;
  }

  /** A JSON call; the parsed body, or a typed error. */
  async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const response = await this.send(method, path, body, combined);
    try {
      return (await response.json()) as T;
    } catch (error) {
      if (combined.aborted) throw aborted(combined);
      throw error;
    }
  }

  /** The events of a Server-Sent Events answer, parsed as JSON, until `[DONE]` or the end. */
  async *events(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<Record<string, unknown>> {
    const local = new AbortController();
    const combined = signal ? AbortSignal.any([signal, local.signal]) : local.signal;
    const response = await this.send("POST", path, body, combined, { Accept: "text/event-stream" });
    const requestId = response.headers.get("x-request-id") ?? "";
    try {
      for await (const data of serverSentEvents(response.body!, combined)) {
        if (data === "[DONE]") return;
        const event = JSON.parse(data) as Record<string, unknown>;
        if (event.error !== undefined || event.type === "error") throw errorFrom(event, undefined, requestId);
        yield event;
      }
    } finally {
      local.abort(); // the consumer stopped early (or failed): close the connection
    }
  }

  /** Sends a request, retrying 429/503 and refused connections; throws typed errors. */
  async send(
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: this.headers(body === undefined ? extra : { "Content-Type": "application/json", ...extra }),
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
        });
      } catch (error) {
        if (signal.aborted) throw aborted(signal);
        if (attempt < this.maxRetries) {
          await sleep(backoffMs(attempt), signal);
          continue;
        }
        throw new ConnectionError(`cannot reach the mesh at ${this.baseUrl}: ${String(error)}`, {
          code: "BACKEND_UNAVAILABLE",
          details: {},
          requestId: "",
        });
      }
      this.keepRateLimit(response.headers);
      if (response.ok) return response;
      const retryAfter = retryAfterSeconds(response.headers.get("retry-after"));
      if (RETRY_STATUSES.has(response.status) && attempt < this.maxRetries) {
        await response.body?.cancel();
        await sleep(backoffMs(attempt, retryAfter), signal);
        continue;
      }
      throw await failure(response, retryAfter);
    }
  }

  private keepRateLimit(headers: Headers): void {
    const limit = number(headers.get("x-ratelimit-limit"));
    if (limit === undefined) return;
    this.rateLimit = {
      limit,
      remaining: number(headers.get("x-ratelimit-remaining")),
      reset: number(headers.get("x-ratelimit-reset")),
    };
  }
}

async function failure(response: Response, retryAfter?: number): Promise<MeshserveError> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: text };
  }
  return errorFrom(body, response.status, response.headers.get("x-request-id") ?? "", retryAfter);
}

/** The `data:` payloads of a Server-Sent Events body, one per event. */
export async function* serverSentEvents(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal?.aborted) throw aborted(signal);
        throw error;
      }
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        const data = block
          .split(/\r?\n/)
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data) yield data;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
