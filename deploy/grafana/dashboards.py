"""Writes the Grafana dashboards of deploy/grafana/dashboards/ (one JSON file each) from the panel
lists below: ``python deploy/grafana/dashboards.py``. Every query names metrics the services export
(``tests/ops/test_monitoring.py`` checks them against a live scrape, and that the JSON is current)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}

#: (title, unit, [(legend, PromQL)]) per panel, per dashboard.
Panel = tuple[str, str, list[tuple[str, str]]]
DASHBOARDS: dict[str, tuple[str, list[Panel]]] = {
    "meshserve-overview": (
        "meshserve: mesh overview",
        [
            (
                "Requests/s by status",
                "reqps",
                [("{{status}}", "sum by (status) (rate(meshserve_http_requests_total[1m]))")],
            ),
            (
                "Errors/s (5xx)",
                "reqps",
                [("5xx", 'sum(rate(meshserve_http_requests_total{status=~"5.."}[1m]))')],
            ),
            (
                "Gateway latency",
                "s",
                [
                    (
                        f"p{q}",
                        f"histogram_quantile(0.{q}, sum by (le) (rate(meshserve_http_request_seconds_bucket[5m])))",
                    )
                    for q in ("50", "95", "99")
                ],
            ),
            (
                "Requests in flight",
                "short",
                [("{{job}}", "sum by (job) (meshserve_http_requests_in_flight)")],
            ),
            (
                "gRPC calls/s by service method",
                "reqps",
                [
                    (
                        "{{method}} {{outcome}}",
                        "sum by (method, outcome) (rate(meshserve_grpc_calls_total[1m]))",
                    )
                ],
            ),
            ("Triton workers up", "short", [("{{worker}}", "meshserve_triton_worker_up")]),
            (
                "Autoscaler: replicas, desired, maximum",
                "short",
                [
                    ("{{target}} replicas", "meshserve_autoscaler_replicas"),
                    ("{{target}} desired", "meshserve_autoscaler_desired_replicas"),
                    ("{{target}} max", "meshserve_autoscaler_max_replicas"),
                ],
            ),
            (
                "Scaling decisions",
                "short",
                [
                    (
                        "{{target}} {{direction}}",
                        "sum by (target, direction) (increase(meshserve_autoscaler_decisions_total[5m]))",
                    )
                ],
            ),
            ("Worker CPU", "percent", [("{{worker}}", "nv_cpu_utilization * 100")]),
            ("Worker memory", "bytes", [("{{worker}} used", "nv_cpu_memory_used_bytes")]),
        ],
    ),
    "meshserve-models": (
        "meshserve: models",
        [
            (
                "Inferences/s by model",
                "reqps",
                [("{{model}}", "sum by (model) (rate(nv_inference_request_success_total[1m]))")],
            ),
            (
                "Failures/s by model",
                "reqps",
                [("{{model}}", "sum by (model) (rate(nv_inference_request_failure_total[1m]))")],
            ),
            (
                "Queue time per request (Triton)",
                "µs",
                [
                    (
                        "{{model}}",
                        "sum by (model) (rate(nv_inference_queue_duration_us_total[5m]))"
                        " / clamp_min(sum by (model) (rate(nv_inference_request_success_total[5m])), 1e-9)",
                    )
                ],
            ),
            (
                "Compute time per request (Triton)",
                "µs",
                [
                    (
                        "{{model}}",
                        "sum by (model) (rate(nv_inference_compute_infer_duration_us_total[5m]))"
                        " / clamp_min(sum by (model) (rate(nv_inference_exec_count_total[5m])), 1e-9)",
                    )
                ],
            ),
            (
                "Batch size (inferences per execution)",
                "short",
                [
                    (
                        "{{model}}",
                        "sum by (model) (rate(nv_inference_count_total[5m]))"
                        " / clamp_min(sum by (model) (rate(nv_inference_exec_count_total[5m])), 1e-9)",
                    )
                ],
            ),
            (
                "Predictions per gateway call or stream message (coalesced into one PredictBatch)",
                "short",
                [
                    (
                        "per call",
                        "sum(rate(meshserve_gateway_predict_batch_items_sum[5m]))"
                        " / clamp_min(sum(rate(meshserve_gateway_predict_batch_items_count[5m])), 1e-9)",
                    )
                ],
            ),
            (
                "Pending requests",
                "short",
                [("{{model}}", "sum by (model) (nv_inference_pending_request_count)")],
            ),
            ("Resident memory", "bytes", [("{{model}}", "meshserve_model_resident_bytes")]),
            (
                "Loads and evictions",
                "short",
                [
                    ("{{model}} loads", "increase(meshserve_model_loads_total[15m])"),
                    ("{{model}} evictions", "increase(meshserve_model_evictions_total[15m])"),
                ],
            ),
        ],
    ),
    "meshserve-language-models": (
        "meshserve: language models",
        [
            (
                "Time to first token",
                "s",
                [
                    (
                        f"{{{{model}}}} p{q}",
                        f"histogram_quantile(0.{q}, sum by (le, model) (rate(meshserve_llm_time_to_first_token_seconds_bucket[5m])))",
                    )
                    for q in ("50", "95")
                ],
            ),
            (
                "Inter-token latency",
                "s",
                [
                    (
                        f"{{{{model}}}} p{q}",
                        f"histogram_quantile(0.{q}, sum by (le, model) (rate(meshserve_llm_inter_token_seconds_bucket[5m])))",
                    )
                    for q in ("50", "95")
                ],
            ),
            (
                "Tokens/s",
                "short",
                [
                    (
                        "{{model}} generated",
                        "sum by (model) (rate(meshserve_llm_completion_tokens_total[1m]))",
                    ),
                    ("{{model}} prompt", "sum by (model) (rate(meshserve_llm_prompt_tokens_total[1m]))"),
                ],
            ),
            (
                "Batch occupancy (sequences in flight)",
                "short",
                [("{{model}}", "sum by (model) (meshserve_llm_sequences_in_flight)")],
            ),
            (
                "Generate calls/s",
                "reqps",
                [
                    (
                        "{{outcome}}",
                        'sum by (outcome) (rate(meshserve_grpc_calls_total{method="/meshserve.v1.InferenceService/Generate"}[1m]))',
                    )
                ],
            ),
        ],
    ),
    "meshserve-speech": (
        "meshserve: speech",
        [
            (
                "Speech calls/s",
                "reqps",
                [
                    (
                        "{{method}} {{outcome}}",
                        'sum by (method, outcome) (rate(meshserve_grpc_calls_total{method=~"/meshserve.v1.SpeechService/.*"}[1m]))',
                    )
                ],
            ),
            (
                "Speech call latency p95",
                "s",
                [
                    (
                        "{{method}}",
                        'histogram_quantile(0.95, sum by (le, method) (rate(meshserve_grpc_call_seconds_bucket{method=~"/meshserve.v1.SpeechService/.*"}[5m])))',
                    )
                ],
            ),
            (
                "Audio routes at the gateway",
                "reqps",
                [
                    (
                        "{{route}} {{status}}",
                        'sum by (route, status) (rate(meshserve_http_requests_total{route=~".*audio.*|.*speech.*|.*tts.*|.*stt.*"}[1m]))',
                    )
                ],
            ),
        ],
    ),
    "meshserve-auth": (
        "meshserve: auth and rate limits",
        [
            (
                "Refused requests/s",
                "reqps",
                [
                    ("401 unauthenticated", 'sum(rate(meshserve_http_requests_total{status="401"}[1m]))'),
                    ("403 forbidden", 'sum(rate(meshserve_http_requests_total{status="403"}[1m]))'),
                    ("429 rate limited", 'sum(rate(meshserve_http_requests_total{status="429"}[1m]))'),
                ],
            ),
            (
                "Rate-limited routes",
                "reqps",
                [("{{route}}", 'sum by (route) (rate(meshserve_http_requests_total{status="429"}[5m]))')],
            ),
            (
                "Auth service calls/s",
                "reqps",
                [
                    (
                        "{{method}} {{outcome}}",
                        'sum by (method, outcome) (rate(meshserve_grpc_calls_total{method=~"/meshserve.v1.AuthService/.*"}[1m]))',
                    )
                ],
            ),
            (
                "Auth call latency p95",
                "s",
                [
                    (
                        "{{method}}",
                        'histogram_quantile(0.95, sum by (le, method) (rate(meshserve_grpc_call_seconds_bucket{method=~"/meshserve.v1.AuthService/.*"}[5m])))',
                    )
                ],
            ),
        ],
    ),
}


def panel(index: int, title: str, unit: str, queries: list[tuple[str, str]]) -> dict[str, Any]:
    """A time-series panel, two to a row."""
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + n), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for n, (legend, expr) in enumerate(queries)
        ],
    }


def dashboard(uid: str, title: str, panels: list[Panel]) -> dict[str, Any]:
    """One dashboard in Grafana's JSON model."""
    return {
        "uid": uid,
        "title": title,
        "tags": ["meshserve"],
        "timezone": "browser",
        "schemaVersion": 39,
        "refresh": "10s",
        "time": {"from": "now-15m", "to": "now"},
        "panels": [panel(i, *p) for i, p in enumerate(panels)],
    }


def rendered() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {
        f"{uid}.json": json.dumps(dashboard(uid, title, panels), indent=2) + "\n"
        for uid, (title, panels) in DASHBOARDS.items()
    }


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}")
