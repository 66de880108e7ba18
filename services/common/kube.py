"""One way the Kubernetes drivers reach the API server (the official ``kubernetes`` client): an
explicit URL with a bearer token, else the in-cluster service account, else the kubeconfig."""

from __future__ import annotations

from typing import Any


def api_client(url: str = "", token: str = "", verify_tls: bool = True) -> Any:
    """A configured ``kubernetes.client.ApiClient``."""
    from kubernetes import client, config

    if url:
        configuration = client.Configuration()
        configuration.host = url.rstrip("/")
        if token:
            configuration.api_key = {"authorization": f"Bearer {token}"}
        configuration.verify_ssl = verify_tls
        return client.ApiClient(configuration)
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return client.ApiClient()
