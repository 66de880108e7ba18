"""Builds Envoy's bootstrap for docker compose from typed ``envoy-data-plane`` messages.

Two listeners: ``edge`` (:8080, published) routes every HTTP path to the gateway; ``mesh`` (:9090, internal
network only) routes gRPC by service (``/meshserve.v1.<Service>/``) for internal callers. Timeouts are
streaming-friendly (SSE and WebSocket routes have no total timeout, only an idle one), retries apply only
where a repeat cannot do harm (idempotent methods; connection failures before a request was sent), and every
cluster has circuit breakers, outlier detection and an active health check.

Run ``python deploy/envoy/envoy_config.py`` to rewrite ``deploy/envoy/envoy.yaml``; a test keeps it current.
"""

from __future__ import annotations

import sys
import warnings
from datetime import timedelta
from pathlib import Path

import yaml
from betterproto2 import Casing

with warnings.catch_warnings():  # its generated validators use a deprecated pydantic form
    warnings.simplefilter("ignore", DeprecationWarning)
    from envoy_data_plane.envoy.config.bootstrap.v3 import Admin, Bootstrap, BootstrapStaticResources
    from envoy_data_plane.envoy.config.cluster.v3 import (
        CircuitBreakers,
        CircuitBreakersThresholds,
        Cluster,
        ClusterDiscoveryType,
        ClusterDnsLookupFamily,
        ClusterLbPolicy,
        OutlierDetection,
    )
    from envoy_data_plane.envoy.config.core.v3 import (
        Address,
        HealthCheck,
        HealthCheckGrpcHealthCheck,
        HealthCheckHttpHealthCheck,
        Http1ProtocolOptions,
        Http2ProtocolOptions,
        RoutingPriority,
        SocketAddress,
    )
    from envoy_data_plane.envoy.config.core.v3 import (
        HttpProtocolOptions as CoreHttpProtocolOptions,
    )
    from envoy_data_plane.envoy.config.endpoint.v3 import (
        ClusterLoadAssignment,
        Endpoint,
        LbEndpoint,
        LocalityLbEndpoints,
    )
    from envoy_data_plane.envoy.config.listener.v3 import Filter, FilterChain, Listener
    from envoy_data_plane.envoy.config.route.v3 import (
        HeaderMatcher,
        RetryPolicy,
        Route,
        RouteAction,
        RouteActionMaxStreamDuration,
        RouteConfiguration,
        RouteMatch,
        RouteMatchGrpcRouteMatchOptions,
        VirtualHost,
    )
    from envoy_data_plane.envoy.extensions.filters.http.router.v3 import Router
    from envoy_data_plane.envoy.extensions.filters.network.http_connection_manager.v3 import (
        HttpConnectionManager,
        HttpConnectionManagerCodecType,
        HttpConnectionManagerUpgradeConfig,
        HttpFilter,
    )
    from envoy_data_plane.envoy.extensions.upstreams.http.v3 import (
        HttpProtocolOptions,
        HttpProtocolOptionsExplicitHttpConfig,
    )
    from envoy_data_plane.envoy.type.matcher.v3 import RegexMatcher, StringMatcher
    from envoy_data_plane.google.protobuf import Any

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(__file__).with_name("envoy.yaml")
sys.path.insert(0, str(ROOT))

from services.common.settings import DEFAULT_PORTS  # noqa: E402

#: gRPC service (package meshserve.v1) served by each process.
GRPC_SERVICES = {
    "auth": "AuthService",
    "registry": "RegistryService",
    "inference": "InferenceService",
    "speech": "SpeechService",
    "autoscaler": "AutoscalerService",
}
GATEWAY_PORT = 8000
EDGE_PORT = 8080
MESH_PORT = 9090
ADMIN_PORT = 9901
#: Paths that stream (SSE, WebSocket, chunked audio): no total timeout, only an idle timeout.
STREAMING_PREFIXES = (
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/audio/",
    "/api/v1/",
    "/api/ai/",
    "/socket.io",
    "/synthesize",
    "/transcribe",
)
REQUEST_TIMEOUT = timedelta(seconds=120)
STREAM_IDLE_TIMEOUT = timedelta(seconds=300)


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def _socket(host: str, port: int) -> Address:
    return Address(socket_address=SocketAddress(address=host, port_value=port))


def _cluster(name: str, port: int, *, grpc: bool) -> Cluster:
    """A DNS-discovered cluster (compose service name) with breakers, outlier detection and health checks."""
    protocol = HttpProtocolOptions(
        explicit_http_config=HttpProtocolOptionsExplicitHttpConfig(
            http2_protocol_options=Http2ProtocolOptions(max_concurrent_streams=1024) if grpc else None,
            http_protocol_options=None if grpc else Http1ProtocolOptions(),
        ),
        common_http_protocol_options=CoreHttpProtocolOptions(idle_timeout=_seconds(600)),
    )
    if grpc:
        check = HealthCheck(
            timeout=_seconds(2),
            interval=_seconds(5),
            unhealthy_threshold=2,
            healthy_threshold=1,
            grpc_health_check=HealthCheckGrpcHealthCheck(),
        )
    else:
        check = HealthCheck(
            timeout=_seconds(2),
            interval=_seconds(5),
            unhealthy_threshold=2,
            healthy_threshold=1,
            http_health_check=HealthCheckHttpHealthCheck(path="/openapi.json"),
        )
    return Cluster(
        name=name,
        type=ClusterDiscoveryType.STRICT_DNS,
        dns_lookup_family=ClusterDnsLookupFamily.V4_ONLY,
        connect_timeout=_seconds(2),
        lb_policy=ClusterLbPolicy.ROUND_ROBIN,
        load_assignment=ClusterLoadAssignment(
            cluster_name=name,
            endpoints=[
                LocalityLbEndpoints(lb_endpoints=[LbEndpoint(endpoint=Endpoint(address=_socket(name, port)))])
            ],
        ),
        typed_extension_protocol_options={
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": Any.pack(protocol)
        },
        circuit_breakers=CircuitBreakers(
            thresholds=[
                CircuitBreakersThresholds(
                    priority=RoutingPriority.DEFAULT,
                    max_connections=1024,
                    max_pending_requests=1024,
                    max_requests=4096,
                    max_retries=16,
                )
            ]
        ),
        # consecutive_5xx keeps Envoy's default (5): betterproto2 mis-cases that field's name in YAML.
        outlier_detection=OutlierDetection(
            consecutive_gateway_failure=3,
            interval=_seconds(10),
            base_ejection_time=_seconds(30),
            max_ejection_percent=50,
        ),
        health_checks=[check],
    )


def _idempotent_methods() -> HeaderMatcher:
    return HeaderMatcher(
        name=":method",
        string_match=StringMatcher(safe_regex=RegexMatcher(regex="GET|HEAD|OPTIONS")),
    )


def _edge_routes() -> list[Route]:
    """Streaming paths without a total timeout; idempotent methods retried; the rest once."""
    routes = [
        Route(
            name=f"stream{prefix.rstrip('/').replace('/', '-')}",
            match=RouteMatch(prefix=prefix),
            route=RouteAction(
                cluster="gateway",
                timeout=_seconds(0),  # a token stream may last as long as it produces
                idle_timeout=STREAM_IDLE_TIMEOUT,
            ),
        )
        for prefix in STREAMING_PREFIXES
    ]
    routes.append(
        Route(
            name="idempotent",
            match=RouteMatch(prefix="/", headers=[_idempotent_methods()]),
            route=RouteAction(
                cluster="gateway",
                timeout=REQUEST_TIMEOUT,
                retry_policy=RetryPolicy(
                    retry_on="connect-failure,refused-stream,reset,gateway-error",
                    num_retries=2,
                    per_try_timeout=_seconds(30),
                ),
            ),
        )
    )
    routes.append(
        Route(
            name="default",
            match=RouteMatch(prefix="/"),
            route=RouteAction(
                cluster="gateway",
                timeout=REQUEST_TIMEOUT,
                # Only failures before the request reached the gateway: never repeats a POST's effect.
                retry_policy=RetryPolicy(retry_on="connect-failure,refused-stream", num_retries=2),
            ),
        )
    )
    return routes


def _mesh_routes() -> list[Route]:
    """One route per gRPC service; the caller's grpc-timeout is the deadline."""
    routes = []
    for name, service in GRPC_SERVICES.items():
        routes.append(
            Route(
                name=name,
                match=RouteMatch(prefix=f"/meshserve.v1.{service}/", grpc=RouteMatchGrpcRouteMatchOptions()),
                route=RouteAction(
                    cluster=name,
                    timeout=_seconds(0),  # server streams (tokens, audio) are bounded by grpc-timeout
                    max_stream_duration=RouteActionMaxStreamDuration(grpc_timeout_header_max=_seconds(600)),
                    # gRPC calls are not all idempotent: retry only what never reached a server.
                    retry_policy=RetryPolicy(retry_on="connect-failure,refused-stream", num_retries=2),
                ),
            )
        )
    return routes


def _http_listener(name: str, port: int, routes: list[Route], *, grpc: bool) -> Listener:
    manager = HttpConnectionManager(
        stat_prefix=name,
        codec_type=HttpConnectionManagerCodecType.AUTO,
        route_config=RouteConfiguration(
            name=name, virtual_hosts=[VirtualHost(name=name, domains=["*"], routes=routes)]
        ),
        http_filters=[HttpFilter(name="envoy.filters.http.router", typed_config=Any.pack(Router()))],
        stream_idle_timeout=STREAM_IDLE_TIMEOUT,
        request_timeout=_seconds(0),  # bodies of uploads and streams may take long: routes bound them
        common_http_protocol_options=CoreHttpProtocolOptions(idle_timeout=_seconds(600)),
        http2_protocol_options=Http2ProtocolOptions(max_concurrent_streams=1024) if grpc else None,
        upgrade_configs=[] if grpc else [HttpConnectionManagerUpgradeConfig(upgrade_type="websocket")],
        use_remote_address=not grpc,
        generate_request_id=True,
        preserve_external_request_id=True,
    )
    return Listener(
        name=name,
        address=_socket("0.0.0.0", port),
        filter_chains=[
            FilterChain(
                filters=[
                    Filter(
                        name="envoy.filters.network.http_connection_manager", typed_config=Any.pack(manager)
                    )
                ]
            )
        ],
    )


def build() -> Bootstrap:
    """The whole bootstrap."""
    clusters = [_cluster("gateway", GATEWAY_PORT, grpc=False)]
    clusters += [_cluster(name, DEFAULT_PORTS[name], grpc=True) for name in GRPC_SERVICES]
    return Bootstrap(
        admin=Admin(address=_socket("0.0.0.0", ADMIN_PORT)),
        static_resources=BootstrapStaticResources(
            listeners=[
                _http_listener("edge", EDGE_PORT, _edge_routes(), grpc=False),
                _http_listener("mesh", MESH_PORT, _mesh_routes(), grpc=True),
            ],
            clusters=clusters,
        ),
    )


HEADER = "# Generated by deploy/envoy/envoy_config.py from envoy-data-plane types; do not edit by hand.\n"


def render() -> str:
    """The bootstrap as YAML with proto field names (what Envoy's own examples use)."""
    return HEADER + yaml.safe_dump(build().to_dict(casing=Casing.SNAKE), sort_keys=False, width=110)


def parse(text: str) -> Bootstrap:
    """A rendered file back into typed messages (unpacking every typed config)."""
    return Bootstrap.from_dict(yaml.safe_load(text))


if __name__ == "__main__":
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
