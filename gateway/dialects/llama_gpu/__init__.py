"""Document 004 (LLaMA GPU): ``/api/v1/*`` and the ``/socket.io`` WebSocket."""
