"""Tenants' metering in the auth service: the plan table, usage records, budgets with their alerts,
allowances and usage analytics with a cost forecast (``MeteringService`` in ``metering.proto``).

``periods`` (UTC days and months), ``schema`` (the tables), ``plans``, ``usage``, ``budgets`` and
``forecast`` each do one job; ``store`` composes them and ``servicer`` is the gRPC face.
"""
