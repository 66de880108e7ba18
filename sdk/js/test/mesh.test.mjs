// The client against a running mesh (MESHSERVE_BASE_URL; `make test` starts one): documents 003 and
// 004, streaming, cancellation, typed errors and the Socket.IO channels.
import assert from "node:assert/strict";
import { before, test } from "node:test";

import { AbortedError, AIClient, LlamaGPUClient, ModelNotFoundError } from "@meshserve/client";

const url = process.env.MESHSERVE_BASE_URL;
const client = new LlamaGPUClient({ baseUrl: url });
let model = "";

before(async () => {
  assert.ok(url, "MESHSERVE_BASE_URL must name a running mesh (make test starts one)");
  model = (await client.infer("Hello", "default", { max_tokens: 2, temperature: 0 })).model_used;
});

/** Resolves with the first `event` the socket receives for which `accept` holds. */
function next(socket, event, accept = () => true, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    const listener = (data) => {
      if (!accept(data)) return;
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(data);
    };
    socket.on(event, listener);
  });
}

test("004 infer, batchInfer, models, plugins and system status", async () => {
  const result = await client.infer({ text: "Say hi", maxTokens: 8, temperature: 0 });
  assert.equal(typeof result.generated_text, "string");
  assert.equal(result.generatedText, result.generated_text);
  assert.ok(result.tokensGenerated >= 1 && result.tokensGenerated <= 8);
  assert.match(result.metadata.request_id, /^req_/);
  const batch = await client.batchInfer([{ text: "One" }, { text: "Two", id: "b" }], "default", { maxTokens: 4 });
  assert.deepEqual(batch.map((r) => r.id), ["0", "b"]);
  const models = await client.listModels();
  assert.ok(models.some((m) => m.name === model || m.id === model), JSON.stringify(models.map((m) => m.name)));
  const details = await client.getModel(model);
  assert.equal(details.performance.batch.active_sequences, 0);
  assert.ok(Array.isArray(await client.listPlugins()));
  const status = await client.getSystemStatus();
  assert.equal(status.success, true);
});

test("004 plugin load and unload, round trip", async () => {
  // (Unloading the shared mesh's language model here would count a second load in the tests that
  // follow; the model calls' requests are checked in transport.test.mjs.)
  const plugin = await client.loadPlugin("model_adapter", {});
  assert.equal(plugin.plugin.status, "loaded");
  assert.equal((await client.listPlugins()).find((p) => p.id === "model_adapter").status, "loaded");
  assert.equal((await client.unloadPlugin("model_adapter")).success, true);
  assert.notEqual((await client.listPlugins()).find((p) => p.id === "model_adapter").status, "loaded");
});

test("003 inference, batch and smartInference", async () => {
  const ai = new AIClient({ baseUrl: url, apiKey: "your-key" });
  const reply = await ai.inference({ model: model, prompt: "Hello", temperature: 0, max_tokens: 6 });
  assert.equal(typeof reply.response, "string");
  assert.ok(reply.tokens_used >= 1);
  const results = await ai.batch([{ model: model, prompt: "A", parameters: { max_tokens: 3 } }, { model: "gpt-4", prompt: "B" }]);
  assert.equal(results.length, 2);
  assert.equal(results[0].success, true);
  assert.equal(results[1].success, false);
  const smart = await ai.smartInference({ task: "text-generation", prompt: "Write a poem", priority: "balanced", parameters: { max_tokens: 8 } });
  assert.equal(typeof smart.response, "string", JSON.stringify(smart));
});

test("a stream yields tokens as they are produced", async () => {
  const ai = new AIClient({ baseUrl: url });
  const started = performance.now();
  const arrivals = [];
  for await (const token of ai.stream(model, "Once upon a time, in a small village by the sea,", { max_tokens: 128, temperature: 0 })) {
    assert.equal(typeof token, "string");
    arrivals.push(performance.now() - started);
  }
  assert.ok(arrivals.length >= 16, `${arrivals.length} tokens`);
  // Spread over the generation, not delivered together at the end. 128 tokens, so that a busy
  // machine's delay before the first one (the prompt's evaluation) stays a small share of the whole.
  const first = arrivals[0];
  const last = arrivals[arrivals.length - 1];
  assert.ok(first < last / 3, `first token at ${first.toFixed(1)} ms, last at ${last.toFixed(1)} ms`);
  // A reader that falls behind (a busy machine) gets the tokens queued meanwhile together (the
  // server's outbox merges them), so how many arrive apart depends on the load. What may not depend
  // on it: many separate deliveries, and the middle token arriving in the middle of the stream.
  const apart = arrivals.slice(1).filter((at, i) => at - arrivals[i] > 1).length;
  assert.ok(apart >= 16, `only ${apart} of ${arrivals.length} tokens came more than 1 ms after the one before`);
  const middle = (arrivals[Math.floor(arrivals.length / 2)] - first) / (last - first);
  assert.ok(middle > 0.2 && middle < 0.8, `the middle token arrived at ${(middle * 100).toFixed(0)}% of the stream`);
});

test("aborting a stream frees the batch slot on the server within a second", async () => {
  const controller = new AbortController();
  let tokens = 0;
  await assert.rejects(
    (async () => {
      for await (const event of client.streamInfer({ text: "Once upon a time, in a small village by the sea,", maxTokens: 400, temperature: 0 }, "default", {}, { signal: controller.signal })) {
        if (event.text) tokens += 1;
        if (tokens === 3) {
          assert.equal((await client.getModel(model)).performance.batch.active_sequences, 1);
          controller.abort();
        }
      }
    })(),
    (error) => error instanceof AbortedError && error.code === "CANCELLED",
  );
  const aborted = performance.now();
  for (;;) {
    const batch = (await client.getModel(model)).performance.batch;
    if (batch.active_sequences + batch.waiting_sequences === 0) break;
    assert.ok(performance.now() - aborted < 1000, "the slot is still held a second after the abort");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

test("a model the mesh does not have is MODEL_NOT_FOUND, typed, with its request id", async () => {
  await assert.rejects(client.infer({ text: "Hi", model: "llama2-7b" }), (error) => {
    assert.ok(error instanceof ModelNotFoundError);
    assert.equal(error.code, "MODEL_NOT_FOUND");
    assert.equal(error.status, 404);
    assert.match(error.requestId, /^req_/);
    assert.equal(error.details.model_id, "llama2-7b");
    return true;
  });
});

test("createSocket() receives system_metrics, and inference_completed for a request it made", async () => {
  const socket = client.createSocket(["system_metrics", "inference_events"]);
  try {
    const metrics = await next(socket, "system_metrics");
    assert.equal(typeof metrics.cpu_usage, "number");
    const completed = next(socket, "inference_completed", (data) => data.request_id === requestId);
    let requestId = "";
    const result = await client.infer({ text: "Ping", maxTokens: 3 });
    requestId = result.metadata.request_id;
    const event = await completed;
    assert.equal(event.request_id, requestId);
  } finally {
    socket.disconnect();
  }
});

test("on('performance') calls back with the mesh's metrics", async () => {
  const ai = new AIClient({ baseUrl: url });
  try {
    const metrics = await new Promise((resolve) => ai.on("performance", resolve));
    assert.equal(typeof metrics.cpu_usage, "number");
    assert.equal(typeof metrics.memory_usage, "number");
  } finally {
    ai.close();
  }
});
