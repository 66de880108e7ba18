"""Asynchronous jobs and webhooks of the inference service (document 003's job group).

``records`` holds the typed job model, ``store`` its SQLite persistence, ``validation`` the checks
of a submission, ``manager`` the priority queue and runners (retries, timeouts, progress),
``webhooks`` signed deliveries, ``llm`` the bridge to text generation, ``events`` the webhook
events of the inference servicer's own calls, ``servicer`` the gRPC face
(``meshserve.v1.JobService``) and ``wiring`` the assembly.
"""
