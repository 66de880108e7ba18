"""Runtime shared by every meshserve service: settings, errors, gRPC server and clients."""
