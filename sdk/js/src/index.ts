export { AIClient, LlamaGPUClient, MeshserveClient } from "./client.js";
export type { CallOptions, EventName, InferenceRequest, Parameters, SmartInferenceRequest } from "./client.js";
export * from "./errors.js";
export { io } from "./socket.js";
export type { Socket, SocketConnectOptions } from "./socket.js";
export { backoffMs, retryAfterSeconds, serverSentEvents, Transport } from "./transport.js";
export type { ClientOptions, RateLimit } from "./transport.js";
