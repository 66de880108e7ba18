"""Document 001 (PyTorch Inference Framework): the root-level REST surface."""
