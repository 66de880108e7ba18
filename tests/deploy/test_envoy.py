"""deploy/envoy/envoy.yaml: generated from envoy-data-plane types, current, and consistent with compose."""

from __future__ import annotations

import importlib.util
import warnings

import pytest

with warnings.catch_warnings():  # envoy-data-plane's generated validators use a deprecated pydantic form
    warnings.simplefilter("ignore", DeprecationWarning)
    from envoy_data_plane.envoy.config.bootstrap.v3 import Bootstrap
    from envoy_data_plane.envoy.extensions.filters.network.http_connection_manager.v3 import (
        HttpConnectionManager,
    )
    from envoy_data_plane.envoy.extensions.upstreams.http.v3 import HttpProtocolOptions

from services.common.settings import DEFAULT_PORTS
from tests.deploy.manifests import ROOT, compose

ENVOY_DIR = ROOT / "deploy" / "envoy"


@pytest.fixture(scope="module")
def generator():
    """The generator module (deploy/ is not a package)."""
    spec = importlib.util.spec_from_file_location("envoy_config", ENVOY_DIR / "envoy_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bootstrap(generator) -> Bootstrap:
    """The committed file parsed back into typed messages."""
    return generator.parse((ENVOY_DIR / "envoy.yaml").read_text())


def managers(bootstrap: Bootstrap) -> dict[str, HttpConnectionManager]:
    """Each listener's HTTP connection manager, unpacked from its typed config."""
    return {
        listener.name: listener.filter_chains[0].filters[0].typed_config.unpack()
        for listener in bootstrap.static_resources.listeners
    }


def test_generated_file_is_current(generator):
    assert (ENVOY_DIR / "envoy.yaml").read_text() == generator.render(), (
        "deploy/envoy/envoy.yaml is stale: run python deploy/envoy/envoy_config.py"
    )


def test_file_parses_back_into_the_same_typed_config(generator, bootstrap):
    assert bootstrap == generator.build()
    assert all(isinstance(m, HttpConnectionManager) for m in managers(bootstrap).values())


def test_clusters_match_compose_services_and_ports(bootstrap):
    services = compose()["services"]
    expected = {**DEFAULT_PORTS, "gateway": 8000}
    seen = {}
    for cluster in bootstrap.static_resources.clusters:
        address = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address
        seen[cluster.name] = address.port_value
        assert address.address == cluster.name and cluster.name in services
        assert cluster.circuit_breakers.thresholds[0].max_requests > 0
        assert cluster.outlier_detection.consecutive_gateway_failure == 3
        assert cluster.health_checks, cluster.name
        options = cluster.typed_extension_protocol_options[
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
        ].unpack()
        assert isinstance(options, HttpProtocolOptions)
        # gRPC upstreams speak HTTP/2; the gateway HTTP/1.1.
        assert (options.explicit_http_config.http2_protocol_options is not None) == (
            cluster.name != "gateway"
        )
    assert seen == expected


def test_edge_routes_stream_without_total_timeout_and_retry_only_safely(bootstrap):
    edge = managers(bootstrap)["edge"]
    routes = edge.route_config.virtual_hosts[0].routes
    assert all(r.route.cluster == "gateway" for r in routes)
    sse = next(r for r in routes if r.match.prefix == "/v1/chat/completions")
    assert sse.route.timeout.total_seconds() == 0 and sse.route.idle_timeout.total_seconds() == 300
    idempotent = next(r for r in routes if r.name == "idempotent")
    assert idempotent.match.headers[0].string_match.safe_regex.regex == "GET|HEAD|OPTIONS"
    assert "gateway-error" in idempotent.route.retry_policy.retry_on
    default = next(r for r in routes if r.name == "default")
    assert default.route.retry_policy.retry_on == "connect-failure,refused-stream"
    assert [u.upgrade_type for u in edge.upgrade_configs] == ["websocket"]


def test_mesh_routes_grpc_by_service(bootstrap):
    mesh = managers(bootstrap)["mesh"]
    routes = {r.match.prefix: r.route.cluster for r in mesh.route_config.virtual_hosts[0].routes}
    assert routes == {
        "/meshserve.v1.AuthService/": "auth",
        "/meshserve.v1.RegistryService/": "registry",
        "/meshserve.v1.InferenceService/": "inference",
        "/meshserve.v1.SpeechService/": "speech",
        "/meshserve.v1.AutoscalerService/": "autoscaler",
    }
