"""Gateway dialects: each maps one documented surface onto the canonical gRPC API.

A dialect is a package with an ``errors.py`` (its error envelope and the path prefixes it owns) and
one module per resource holding a FastAPI ``router``. Dialects render; they never decide.
"""
