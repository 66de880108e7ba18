// The meshserve dashboard: cards and tables from the Socket.IO channels, and uPlot time-series
// charts of the autoscaler's metrics series (the last 15 minutes from /dashboard/history on load,
// then one point per `metrics_sample` event). Everything it loads is served by the gateway.
(function () {
  "use strict";
  const WINDOW_SECONDS = 15 * 60;
  const $ = (id) => document.getElementById(id);
  const fmt = (v, d) => (v === null || v === undefined) ? "–" : Number(v).toFixed(d);

  // ---- charts --------------------------------------------------------------------------------
  const COLORS = {
    blue: "#2563eb", red: "#dc2626", green: "#16a34a", amber: "#d97706", purple: "#7c3aed",
    teal: "#0d9488", gray: "#475569",
  };
  // A series: a label, the point's field, a colour. These are drawn for the mesh and for one model.
  const SERIES = {
    requests: [["requests/s", "requests_per_second", COLORS.blue], ["errors/s", "errors_per_second", COLORS.red]],
    latency: [["p50", "latency_p50_ms", COLORS.green], ["p95", "latency_p95_ms", COLORS.amber],
      ["p99", "latency_p99_ms", COLORS.red]],
    tokens: [["tokens/s", "tokens_per_second", COLORS.purple]],
    load: [["in flight", "in_flight", COLORS.teal], ["queued", "queue_depth", COLORS.amber]],
  };
  // Each chart: an id, a title and its series.
  const MESH_CHARTS = [
    { id: "requests", title: "requests/s and errors/s", series: SERIES.requests },
    { id: "latency", title: "latency ms (slowest model)", series: SERIES.latency },
    { id: "tokens", title: "tokens/s", series: SERIES.tokens },
    { id: "load", title: "in flight and queued", series: SERIES.load },
    { id: "workers", title: "workers (dashed: scaling decisions)", marks: true, series: [
      ["workers", "workers", COLORS.gray]] },
    { id: "host", title: "CPU, memory and GPU %", series: [
      ["CPU %", "cpu_usage", COLORS.blue], ["memory %", "memory_usage", COLORS.green],
      ["GPU %", (p) => p.gpu_utilization.length ? Math.max(...p.gpu_utilization) : null, COLORS.purple]] },
  ];
  const MODEL_CHARTS = [
    { id: "model-requests", title: "requests/s and errors/s", series: SERIES.requests },
    { id: "model-latency", title: "latency ms", series: SERIES.latency },
    { id: "model-load", title: "in flight, queued and replicas", series: [
      ...SERIES.load, ["replicas", "replicas", COLORS.gray]] },
    { id: "model-tokens", title: "tokens/s", series: SERIES.tokens },
  ];

  const state = { period: 5, points: [], decisions: [], model: null, charts: {}, liveSamples: 0, COLORS };
  window.meshDashboard = state;  // what the charts plot, for tests and the curious

  function valueOf(point, field, model) {
    const source = model === undefined ? point : (point.models || {})[model];
    if (!source) return null;
    const v = typeof field === "function" ? field(source) : source[field];
    return v === undefined ? null : v;
  }

  function dataOf(spec, model) {
    const xs = state.points.map((p) => p.t);
    return [xs, ...spec.series.map(([, field]) => state.points.map((p) => valueOf(p, field, model)))];
  }

  // Vertical dashed lines at the scaling decisions, labelled "from → to".
  function decisionMarks() {
    return { hooks: { draw: [(u) => {
      const ctx = u.ctx, [lo, hi] = [u.scales.x.min, u.scales.x.max];
      ctx.save();
      ctx.strokeStyle = COLORS.amber; ctx.fillStyle = COLORS.amber; ctx.setLineDash([5, 4]); ctx.lineWidth = 1.5;
      ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui`;
      for (const d of state.decisions) {
        if (d.t < lo || d.t > hi) continue;
        const x = Math.round(u.valToPos(d.t, "x", true));
        ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
        ctx.fillText(`${d.from_replicas}→${d.to_replicas}`, x + 3, u.bbox.top + 12 * devicePixelRatio);
      }
      ctx.restore();
    }] } };
  }

  function makeChart(spec, container, model) {
    const box = document.createElement("div");
    box.className = "chart";
    box.id = `chart-${spec.id}`;
    box.innerHTML = `<h3>${spec.title}</h3>`;
    container.appendChild(box);
    const opts = {
      width: Math.max(300, box.clientWidth - 12), height: 170,
      scales: { x: { time: true } },
      series: [{}, ...spec.series.map(([label, , stroke]) => ({ label, stroke, width: 2 }))],
      axes: [{}, { size: 56 }],
      plugins: spec.marks ? [decisionMarks()] : [],
    };
    const chart = new uPlot(opts, dataOf(spec, model), box);
    state.charts[spec.id] = { chart, spec, model, box };
    return chart;
  }

  function redraw() {
    for (const { chart, spec, model } of Object.values(state.charts)) chart.setData(dataOf(spec, model));
  }

  function addPoints(points) {
    for (const p of points) {
      const last = state.points[state.points.length - 1];
      if (!last || p.t > last.t) state.points.push(p);
    }
    const since = (state.points.length ? state.points[state.points.length - 1].t : 0) - WINDOW_SECONDS;
    while (state.points.length && state.points[0].t < since) state.points.shift();
  }

  async function loadHistory() {
    const reply = await fetch("/dashboard/history?minutes=15", { headers: { Accept: "application/json" } });
    if (!reply.ok) return;
    const body = await reply.json();
    state.period = body.period_seconds || state.period;
    state.points = [];
    addPoints(body.points);
    state.decisions = body.decisions;
    state.historyLoaded = true;
    redraw();
  }

  function onSample(point) {
    const last = state.points[state.points.length - 1];
    state.liveSamples += 1;
    if (last && point.t - last.t > 1.6 * state.period) {  // missed samples (a reconnect): reload them
      loadHistory();
      return;
    }
    addPoints([point]);
    redraw();
  }

  function selectModel(name) {
    state.model = name;
    for (const row of document.querySelectorAll("#models tr")) {
      row.classList.toggle("selected", row.dataset.model === name);
    }
    const section = $("model-section");
    section.hidden = false;
    $("model-title").textContent = `Model ${name}`;
    for (const spec of MODEL_CHARTS) {
      const existing = state.charts[spec.id];
      if (existing) { existing.chart.destroy(); existing.box.remove(); }
      makeChart(spec, $("model-charts"), name);
    }
  }

  // ---- cards and tables ------------------------------------------------------------------------
  let completed = 0, updates = 0;
  const handlers = {
    system_metrics(d) {
      $("cpu-usage").textContent = fmt(d.cpu_usage, 1);
      $("memory-usage").textContent = fmt(d.memory_usage, 1);
      $("active-requests").textContent = fmt(d.active_requests, 0);
      $("request-rate").textContent = fmt(d.request_rate, 2);
    },
    inference_stats(d) {
      $("total-requests").textContent = d.available ? d.total_requests : "–";
      $("tokens-per-second").textContent = d.available ? fmt(d.tokens_per_second, 1) : "–";
      $("workers").textContent = d.workers === null ? "–" : d.workers;
      const p99 = d.models.reduce((m, x) => Math.max(m, x.latency_p99_ms), 0);
      $("latency-p99").textContent = d.models.length ? fmt(p99, 1) : "–";
      const body = $("models");
      body.replaceChildren(...d.models.map((m) => {
        const row = document.createElement("tr");
        row.dataset.model = m.model;
        row.className = m.model === state.model ? "selected" : "";
        for (const cell of [m.model, m.requests, m.in_flight, m.queue_depth, fmt(m.latency_p50_ms, 1),
          fmt(m.latency_p99_ms, 1), fmt(m.request_rate, 2), fmt(m.tokens_per_second, 1), m.replicas]) {
          const td = document.createElement("td");
          td.textContent = cell;
          row.appendChild(td);
        }
        row.onclick = () => selectModel(m.model);
        return row;
      }));
    },
    inference_completed(d, env) {
      completed += 1;
      $("completed").textContent = completed;
      const li = document.createElement("li");
      li.textContent = `${env.timestamp} ${d.model || d.endpoint} ${d.status_code} ${fmt(d.inference_time * 1000, 1)} ms`;
      $("events").prepend(li);
      while ($("events").children.length > 10) $("events").lastChild.remove();
    },
    autoscaler_decision(d) {
      const li = document.createElement("li");
      li.textContent = `${d.time} ${d.target}: ${d.from_replicas} → ${d.to_replicas} (${d.trigger}) ${d.reason}`;
      $("decisions").prepend(li);
      state.decisions.push({ ...d, t: Date.parse(d.time) / 1000 });
      redraw();
    },
    metrics_sample(d) { onSample(d); },
  };

  // A minimal Socket.IO v5 client (Engine.IO v4 over a WebSocket): no third-party script needed.
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/socket.io/?EIO=4&transport=websocket`);
    ws.onmessage = (msg) => {
      const packet = msg.data;
      if (packet[0] === "0") ws.send("40");                       // open -> connect namespace
      else if (packet === "2") ws.send("3");                       // ping -> pong
      else if (packet.startsWith("40")) {                          // namespace connected
        $("status").textContent = "live";
        ws.send("42" + JSON.stringify(["subscribe", { channels: [
          "system_metrics", "inference_stats", "inference_events", "autoscaler_decisions", "metrics_samples"] }]));
      } else if (packet.startsWith("42")) {
        const [event, body] = JSON.parse(packet.slice(2));
        if (handlers[event]) {
          handlers[event](body.data || body, body);
          updates += 1;
          document.body.dataset.updates = updates;
          $("status").textContent = `live · ${updates} updates · ${new Date().toLocaleTimeString()}`;
        }
      }
    };
    ws.onclose = () => { $("status").textContent = "disconnected, retrying…"; setTimeout(connect, 2000); };
  }

  for (const spec of MESH_CHARTS) makeChart(spec, $("mesh-charts"));
  window.addEventListener("resize", () => {
    for (const { chart, box } of Object.values(state.charts)) {
      chart.setSize({ width: Math.max(300, box.clientWidth - 12), height: 170 });
    }
  });
  loadHistory().finally(connect);
})();
