// The documents' JavaScript examples (examples/: verbatim copies, only the import line changed)
// run against the mesh at MESHSERVE_BASE_URL; then the packed tarball installs into an empty project
// and runs one of them there.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { LlamaGPUClient } from "@meshserve/client";

const root = fileURLToPath(new URL("..", import.meta.url));
const examples = join(root, "examples");

/** Runs a script until every `wanted` text appeared in its output (or `timeoutMs`); returns the output. */
function runUntil(script, wanted, { cwd = root, timeoutMs = 30000, whileRunning } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd, env: process.env });
    let output = "";
    const check = () => {
      if (wanted.every((text) => output.includes(text))) {
        clearTimeout(timer);
        child.kill();
        resolve(output);
      }
    };
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${script}: never printed all of ${JSON.stringify(wanted)}; it printed:\n${output}`));
    }, timeoutMs);
    child.stdout.on("data", (chunk) => ((output += chunk), check()));
    child.stderr.on("data", (chunk) => ((output += chunk), check()));
    child.on("exit", (code) => {
      if (!wanted.every((text) => output.includes(text))) {
        clearTimeout(timer);
        reject(new Error(`${script} exited ${code} early:\n${output}`));
      }
    });
    whileRunning?.();
  });
}

test("003: smartInference, then on('performance') prints the mesh's metrics", async () => {
  const output = await runUntil(join(examples, "d003_01.mjs"), ["Current performance:", "cpu_usage"]);
  assert.doesNotMatch(output, /Error/);
});

test("004 §7: the socket examples, run as one program, receive metrics and inference events", async () => {
  const parts = readdirSync(examples).filter((name) => /^d004_0[1-6]\.mjs$/.test(name)).sort();
  assert.equal(parts.length, 6);
  const program = join(examples, ".d004-socket-program.mjs");
  writeFileSync(program, parts.map((name) => readFileSync(join(examples, name), "utf8")).join("\n"));
  const client = new LlamaGPUClient();
  let stop = false;
  try {
    const output = await runUntil(program, ["System metrics:", "cpu_usage", "Inference started:", "Inference completed:"], {
      whileRunning: async () => {
        // Requests for the inference_events the program subscribed to, until it has printed them.
        while (!stop) {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          if (!stop) await client.infer({ text: "Ping", maxTokens: 2 }).catch(() => undefined);
        }
      },
    });
    assert.match(output, /Inference completed: req_\w+/);
  } finally {
    stop = true;
    rmSync(program, { force: true });
  }
});

test("004 §10: the CommonJS client example reports llama2-7b as not found and streams metrics", async () => {
  const output = await runUntil(join(examples, "d004_07.cjs"), [
    "Inference failed:",
    "Connected to WebSocket",
    "System metrics:",
  ]);
  assert.match(output, /Inference failed: language model 'llama2-7b' is not available/);
});

test("npm pack: the tarball installs into an empty project and runs an example there", { timeout: 180000 }, async () => {
  const project = mkdtempSync(join(tmpdir(), "meshserve-js-"));
  try {
    const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", project], { cwd: root, encoding: "utf8" })
      .trim()
      .split("\n")
      .pop();
    execFileSync("npm", ["init", "-y"], { cwd: project, stdio: "ignore" });
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", join(project, packed)], {
      cwd: project,
      stdio: "ignore",
    });
    cpSync(join(examples, "d004_07.cjs"), join(project, "example.cjs"));
    const output = await runUntil("example.cjs", ["Inference failed:", "System metrics:"], { cwd: project });
    assert.match(output, /MODEL_NOT_FOUND|not available/);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});
