"""Generated protobuf and gRPC code for meshserve.v1 (``make gen``; never edit by hand)."""
