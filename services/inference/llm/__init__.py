"""Text generation: loader, sampling, the continuous-batching engine and its Triton model."""
