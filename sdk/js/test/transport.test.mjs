// The transport against small HTTP servers on real sockets: retries that honour Retry-After,
// rate-limit headers, every envelope parsed into typed errors, and Server-Sent Events parsing.
import assert from "node:assert/strict";
import http from "node:http";
import { after, test } from "node:test";

import {
  BackendUnavailableError,
  MeshserveClient,
  ModelNotFoundError,
  RateLimitError,
  errorFrom,
  retryAfterSeconds,
} from "@meshserve/client";

const servers = [];
after(() => servers.forEach((server) => server.close()));

/** A server answering each request with the next of `answers` ([status, headers, body]). */
async function serve(answers) {
  const seen = [];
  const server = http.createServer((request, response) => {
    seen.push({ at: Date.now(), url: request.url, headers: request.headers });
    const [status, headers, body] = answers[Math.min(seen.length - 1, answers.length - 1)];
    response.writeHead(status, { "Content-Type": "application/json", ...headers });
    response.end(typeof body === "string" ? body : JSON.stringify(body));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${server.address().port}`, seen };
}

test("a 429 is retried after the Retry-After it carries, and rate-limit headers are kept", async () => {
  const limited = { error: { code: "RATE_LIMIT_EXCEEDED", message: "slow down" } };
  const ok = { success: true, system: { status: "healthy" } };
  const { url, seen } = await serve([
    [429, { "Retry-After": "1", "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0" }, limited],
    [200, { "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4", "X-RateLimit-Reset": "1700000000" }, ok],
  ]);
  const client = new MeshserveClient({ baseUrl: url, apiKey: "k-1" });
  const status = await client.getSystemStatus();
  assert.equal(status.system.status, "healthy");
  assert.equal(seen.length, 2);
  assert.ok(seen[1].at - seen[0].at >= 990, `retried after ${seen[1].at - seen[0].at} ms`);
  assert.equal(seen[0].headers.authorization, "Bearer k-1");
  assert.deepEqual(client.rateLimit, { limit: 5, remaining: 4, reset: 1700000000 });
});

test("retries stop after maxRetries with the typed error of the last answer", async () => {
  const body = { success: false, error: { code: "BACKEND_UNAVAILABLE", message: "no worker", details: { a: 1 } } };
  const { url, seen } = await serve([[503, { "X-Request-ID": "rid-9" }, body]]);
  const client = new MeshserveClient({ baseUrl: url, maxRetries: 2 });
  await assert.rejects(client.listModels(), (error) => {
    assert.ok(error instanceof BackendUnavailableError);
    assert.equal(error.code, "BACKEND_UNAVAILABLE");
    assert.equal(error.status, 503);
    assert.equal(error.requestId, "rid-9");
    assert.deepEqual(error.details, { a: 1 });
    return true;
  });
  assert.equal(seen.length, 3);
});

test("a 429 that is not retried says how long to wait", async () => {
  const { url } = await serve([[429, { "Retry-After": "7" }, { error: { code: "RATE_LIMIT_EXCEEDED", message: "x" } }]]);
  const client = new MeshserveClient({ baseUrl: url, maxRetries: 0 });
  await assert.rejects(client.listPlugins(), (error) => error instanceof RateLimitError && error.retryAfter === 7);
});

test("every envelope the gateway speaks becomes the same typed error", () => {
  const bodies = [
    { error: { code: "MODEL_NOT_FOUND", message: "m", details: { model: "x" }, suggestion: "s" } }, // 003
    { success: false, error: { code: "MODEL_NOT_FOUND", message: "m", details: { model: "x" } } }, // 004
    { error: { message: "m", type: "invalid_request_error", code: "model_not_found", reason: "MODEL_NOT_FOUND" } }, // OpenAI
  ];
  for (const body of bodies) {
    const error = errorFrom(body, 404, "rid");
    assert.ok(error instanceof ModelNotFoundError, JSON.stringify(body));
    assert.equal(error.code, "MODEL_NOT_FOUND");
    assert.equal(error.message, "m");
    assert.equal(error.requestId, "rid");
  }
  const kserve = errorFrom({ error: "no such model" }, 404);
  assert.ok(kserve instanceof ModelNotFoundError);
  assert.equal(kserve.message, "no such model");
  assert.equal(retryAfterSeconds("3"), 3);
  assert.ok(retryAfterSeconds(new Date(Date.now() + 5000).toUTCString()) > 3);
});

test("server-sent events split across reads are parsed whole", async () => {
  const server = http.createServer(async (request, response) => {
    response.writeHead(200, { "Content-Type": "text/event-stream" });
    response.write('data: {"type": "token", "to');
    await new Promise((resolve) => setTimeout(resolve, 30));
    response.write('ken": "Hel"}\n\ndata: {"type": "token", "token": "lo"}\n\n');
    response.end('data: {"type": "done"}\n\n');
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const client = new MeshserveClient({ baseUrl: `http://127.0.0.1:${server.address().port}` });
  const tokens = [];
  for await (const token of client.stream("m", "p")) tokens.push(token);
  assert.deepEqual(tokens, ["Hel", "lo"]);
});

test("model and plugin calls send 004's methods, paths and bodies", async () => {
  const { url, seen } = await serve([[200, {}, { success: true, model: { id: "m/1", loaded: true } }]]);
  const bodies = [];
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    bodies.push({ method: init.method, path: new URL(input).pathname, body: init.body && JSON.parse(init.body) });
    return original(input, init);
  };
  try {
    const client = new MeshserveClient({ baseUrl: url });
    assert.equal((await client.loadModel("m/1", { backend: "cpu", quantization: "int8" })).loaded, true);
    await client.unloadModel("m/1");
    await client.configurePlugin("guard", { max: 3 });
  } finally {
    globalThis.fetch = original;
  }
  assert.deepEqual(bodies, [
    { method: "POST", path: "/api/v1/models/m%2F1/load", body: { backend: "cpu", quantization: "int8" } },
    { method: "DELETE", path: "/api/v1/models/m%2F1/unload", body: undefined },
    { method: "PUT", path: "/api/v1/plugins/guard/config", body: { config: { max: 3 } } },
  ]);
  assert.equal(seen.length, 3);
});
