/**
 * One client for the mesh's REST surfaces: document 003 (`/api/ai`), document 004 (`/api/v1`) and
 * the Socket.IO channels. `AIClient` (003) and `LlamaGPUClient` (004) are the same class under the
 * names the documents' examples import.
 */
import { errorFrom } from "./errors.js";
import { openSocket, type Socket } from "./socket.js";
import { type ClientOptions, type RateLimit, Transport } from "./transport.js";

type Json = Record<string, unknown>;
/** Generation settings: `max_tokens`, `temperature`, `top_p`, … as the documents name them. */
export type Parameters = Record<string, unknown>;

export interface InferenceRequest {
  model?: string;
  model_id?: string;
  prompt: string;
  parameters?: Parameters;
  [parameter: string]: unknown;
}

export interface SmartInferenceRequest {
  /** The capability the model must have (003's `model_type`). */
  task?: string;
  prompt: string;
  /** `performance`, `cost` or `balanced`. */
  priority?: string;
  parameters?: Parameters;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** The events `on()` knows: 003's `performance` and the Socket.IO channels' events. */
export type EventName =
  | "performance"
  | "system_metrics"
  | "gpu_metrics"
  | "inference_stats"
  | "inference_started"
  | "inference_completed"
  | "autoscaler_decision"
  | "plugin_loaded"
  | "plugin_unloaded"
  | "plugin_error";

/** The channel each event arrives on. */
const CHANNEL_OF: Record<string, string> = {
  performance: "system_metrics",
  system_metrics: "system_metrics",
  gpu_metrics: "gpu_metrics",
  inference_stats: "inference_stats",
  inference_started: "inference_events",
  inference_completed: "inference_events",
  autoscaler_decision: "autoscaler_decisions",
  plugin_loaded: "plugin_events",
  plugin_unloaded: "plugin_events",
  plugin_error: "plugin_events",
};

const KNOWN = new Set(["model", "model_id", "prompt", "parameters"]);

function auterityBody(request: InferenceRequest): Json {
  // 003's SDK passes settings beside the prompt (`temperature: 0.7`); its REST body nests them.
  const loose = Object.fromEntries(Object.entries(request).filter(([key]) => !KNOWN.has(key)));
  return {
    model_id: request.model_id ?? request.model ?? "default",
    prompt: request.prompt,
    parameters: { ...loose, ...(request.parameters ?? {}) },
  };
}

function path(segment: string): string {
  return encodeURIComponent(segment);
}

/** `maxTokens` → `max_tokens`: 004's JavaScript examples name settings in camelCase, its REST body in snake_case. */
function snakeKeys(values: Json): Json {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), value]),
  );
}

/** The body's fields under both names: `generated_text` and `generatedText`. */
function withCamelCase(values: Json): Json {
  const out: Json = { ...values };
  for (const [key, value] of Object.entries(values)) {
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!(camel in out)) out[camel] = value;
  }
  return out;
}

/** 004 request: `"text"` with settings, or `{text, model, maxTokens, …}` as its examples call it. */
export interface TextRequest {
  text: string;
  model?: string;
  [parameter: string]: unknown;
}

function textBody(input: string | TextRequest, model: string, parameters: Parameters): Json {
  const request = typeof input === "string" ? { text: input, model, ...parameters } : { model, ...input };
  return snakeKeys(request as Json);
}

export class MeshserveClient {
  readonly transport: Transport;
  private socket?: Socket;
  private readonly listeners: Array<[string, (data: Json) => void]> = [];

  constructor(options: ClientOptions = {}) {
    this.transport = new Transport(options);
  }

  /** The `X-RateLimit-*` headers of the latest answer. */
  get rateLimit(): RateLimit {
    return this.transport.rateLimit;
  }

  // ---- document 003: /api/ai ------------------------------------------------------------------

  /** `POST /api/ai/inference`: `{response, tokens_used, processing_time, metadata}`. */
  inference(request: InferenceRequest, options: CallOptions = {}): Promise<Json> {
    return this.transport.json("POST", "/api/ai/inference", auterityBody(request), options.signal);
  }

  /** `POST /api/ai/inference/stream`: the tokens as they are generated. */
  async *stream(model: string, prompt: string, parameters: Parameters = {}, options: CallOptions = {}): AsyncGenerator<string> {
    const body = auterityBody({ model, prompt, parameters });
    for await (const event of this.transport.events("/api/ai/inference/stream", body, options.signal)) {
      if (event.type === "token" && typeof event.token === "string") yield event.token;
      if (event.type === "done") return;
    }
  }

  /** `POST /api/ai/inference/batch`: one result per request (`success`, `response` or `error`). */
  async batch(requests: InferenceRequest[], config: Json = {}, options: CallOptions = {}): Promise<Json[]> {
    const body = { requests: requests.map(auterityBody), ...(Object.keys(config).length ? { config } : {}) };
    const reply = await this.transport.json<Json>("POST", "/api/ai/inference/batch", body, options.signal);
    return reply.results as Json[];
  }

  /** `POST /api/ai/advanced/inference/smart`: the model chosen for the task and priority, and its answer. */
  smartInference(request: SmartInferenceRequest, options: CallOptions = {}): Promise<Json> {
    const body = {
      model_type: request.task ?? "text-generation",
      prompt: request.prompt,
      priority: request.priority ?? "balanced",
      parameters: request.parameters ?? {},
    };
    return this.transport.json("POST", "/api/ai/advanced/inference/smart", body, options.signal);
  }

  // ---- document 004: /api/v1 ------------------------------------------------------------------

  /**
   * `POST /api/v1/infer`: `{generated_text, tokens_generated, inference_time, model_used, backend,
   * metadata}`, each field also in camelCase (`generatedText`).
   */
  async infer(
    input: string | TextRequest,
    model = "default",
    parameters: Parameters = {},
    options: CallOptions = {},
  ): Promise<Json> {
    const body = textBody(input, model, parameters);
    const reply = await this.transport.json<Json>("POST", "/api/v1/infer", body, options.signal);
    return withCamelCase({ ...(reply.result as Json), metadata: reply.metadata ?? {} });
  }

  /** `POST /api/v1/batch_infer`: one result per input, failures in place. */
  async batchInfer(
    inputs: Array<{ text: string; id?: string } & Json>,
    model = "default",
    parameters: Parameters = {},
    options: CallOptions = {},
  ): Promise<Json[]> {
    const items = inputs.map((item, index) => ({ id: String(index), ...item }));
    const reply = await this.transport.json<Json>(
      "POST",
      "/api/v1/batch_infer",
      { inputs: items, model, ...snakeKeys(parameters) },
      options.signal,
    );
    return (reply.results as Json[]).map(withCamelCase);
  }

  /**
   * `POST /api/v1/stream_infer`: token events `{token, position, is_complete}`, each also with
   * `text` (the token, as 004's examples read it) and camelCase names; the last carries `final_text`.
   */
  async *streamInfer(
    input: string | TextRequest,
    model = "default",
    parameters: Parameters = {},
    options: CallOptions = {},
  ): AsyncGenerator<Json> {
    const body = { ...textBody(input, model, parameters), stream: true };
    for await (const event of this.transport.events("/api/v1/stream_infer", body, options.signal)) {
      yield withCamelCase({ text: event.token, ...event });
      if (event.finished === true || event.final_text !== undefined) return;
    }
  }

  /** `GET /api/v1/models`. */
  async listModels(options: CallOptions = {}): Promise<Json[]> {
    const reply = await this.transport.json<Json>("GET", "/api/v1/models", undefined, options.signal);
    return reply.models as Json[];
  }

  /** `GET /api/v1/models/{id}`. */
  async getModel(model: string, options: CallOptions = {}): Promise<Json> {
    const reply = await this.transport.json<Json>("GET", `/api/v1/models/${path(model)}`, undefined, options.signal);
    return reply.model as Json;
  }

  /** `POST /api/v1/models/{id}/load` (`backend`, `device`, `quantization`, `max_memory`, …). */
  async loadModel(model: string, settings: Json = {}, options: CallOptions = {}): Promise<Json> {
    const reply = await this.transport.json<Json>("POST", `/api/v1/models/${path(model)}/load`, settings, options.signal);
    return (reply.model as Json) ?? reply;
  }

  /** `DELETE /api/v1/models/{id}/unload`. */
  unloadModel(model: string, options: CallOptions = {}): Promise<Json> {
    return this.transport.json("DELETE", `/api/v1/models/${path(model)}/unload`, undefined, options.signal);
  }

  /** `GET /api/v1/plugins`. */
  async listPlugins(options: CallOptions = {}): Promise<Json[]> {
    const reply = await this.transport.json<Json>("GET", "/api/v1/plugins", undefined, options.signal);
    return reply.plugins as Json[];
  }

  /** `POST /api/v1/plugins/{id}/load`. */
  loadPlugin(plugin: string, config: Json = {}, options: CallOptions = {}): Promise<Json> {
    return this.transport.json("POST", `/api/v1/plugins/${path(plugin)}/load`, { config }, options.signal);
  }

  /** `DELETE /api/v1/plugins/{id}/unload`. */
  unloadPlugin(plugin: string, options: CallOptions = {}): Promise<Json> {
    return this.transport.json("DELETE", `/api/v1/plugins/${path(plugin)}/unload`, undefined, options.signal);
  }

  /** `PUT /api/v1/plugins/{id}/config`. */
  configurePlugin(plugin: string, config: Json, options: CallOptions = {}): Promise<Json> {
    return this.transport.json("PUT", `/api/v1/plugins/${path(plugin)}/config`, { config }, options.signal);
  }

  /** `GET /api/v1/system/status`. */
  getSystemStatus(options: CallOptions = {}): Promise<Json> {
    return this.transport.json("GET", "/api/v1/system/status", undefined, options.signal);
  }

  // ---- Socket.IO --------------------------------------------------------------------------------

  /** A Socket.IO connection to the gateway, authenticated with the client's key, subscribed to `channels`. */
  createSocket(channels: string[] = []): Socket {
    return openSocket(this.transport.baseUrl, this.transport.apiKey, channels);
  }

  /**
   * Calls `listener` with every event of that name. `performance` (003) is the mesh's
   * `system_metrics` event: CPU, memory, request rate, latency. The first `on()` opens the socket.
   */
  on(event: EventName, listener: (data: Json) => void): this {
    const channel = CHANNEL_OF[event];
    if (channel === undefined) {
      throw errorFrom({ error: { code: "INVALID_INPUT", message: `unknown event ${event}` } }, undefined);
    }
    const socket = (this.socket ??= this.createSocket());
    const name = event === "performance" ? "system_metrics" : event;
    socket.on(name, listener);
    this.listeners.push([name, listener]);
    const channels = [...new Set(this.listeners.map(([each]) => CHANNEL_OF[each]))];
    if (socket.connected) socket.emit("subscribe", { channels });
    socket.off("connect").on("connect", () => socket.emit("subscribe", { channels }));
    return this;
  }

  /** Stops calling `listener` (every listener of `event` when none is given). */
  off(event: EventName, listener?: (data: Json) => void): this {
    const name = event === "performance" ? "system_metrics" : event;
    this.socket?.off(name, listener);
    return this;
  }

  /** Closes the socket `on()` opened. */
  close(): void {
    this.socket?.disconnect();
    this.socket = undefined;
  }
}

/** Document 003's client name. */
export class AIClient extends MeshserveClient {}
/** Document 004's client name. */
export class LlamaGPUClient extends MeshserveClient {}
