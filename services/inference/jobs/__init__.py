"""Asynchronous jobs and webhooks of the inference service (document 003's job group).

``records`` holds the typed job model, ``store`` its SQLite persistence, ``manager`` the priority
queue and runners (retries, timeouts, progress), ``webhooks`` signed deliveries, ``llm`` the bridge
to text generation and ``servicer`` the gRPC face (``meshserve.v1.JobService``).
"""
