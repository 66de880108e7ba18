/**
 * The gateway's Socket.IO channels (004 §7): `system_metrics`, `gpu_metrics`, `inference_stats`,
 * `inference_events`, `autoscaler_decisions`, `plugin_events`, with `socket.io-client`.
 */
import { io as connect, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";

import { resolveBaseUrl } from "./transport.js";

export type { Socket } from "socket.io-client";
export type SocketConnectOptions = Partial<ManagerOptions & SocketOptions>;

/**
 * `socket.io-client`'s `io()`. The address of the documents' examples (`http://localhost:5000`)
 * means "the mesh": `MESHSERVE_BASE_URL` when it is set, so the documents' code runs unchanged.
 */
export function io(uri?: string, options: SocketConnectOptions = {}): Socket {
  return connect(resolveBaseUrl(uri), { transports: ["websocket"], ...options });
}

/** A socket on the gateway at `baseUrl`, authenticated with `apiKey`, subscribed to `channels`. */
export function openSocket(baseUrl: string, apiKey: string | undefined, channels: string[]): Socket {
  const socket = connect(baseUrl, { transports: ["websocket"], auth: apiKey ? { token: apiKey } : {} });
  if (channels.length) {
    // Subscriptions are per connection: renewed after every reconnect.
    socket.on("connect", () => {
      socket.emit("subscribe", { channels });
    });
  }
  return socket;
}
