"""meshserve's gRPC services.

Every service starts children while its gRPC threads are busy: the inference service its Triton
workers and fine-tuning runs, the launcher the services themselves. grpcio's core installs
``pthread_atfork`` handlers that, when a fork happens while another thread is inside gRPC, can
deadlock or abort the forked child before it reaches ``exec``: a Triton worker that never starts
(exit -6 or -11, "Check failed: next_worker->state == KICKED"), or a training run that hangs
forever at "loading". The children here always ``exec`` at once and never use the parent's gRPC
state, so the handlers have nothing to protect: they are turned off before any service imports
grpc (an operator's own ``GRPC_ENABLE_FORK_SUPPORT`` still wins). ``tests/test_children.py``
starts children under gRPC load: with the handlers on, 21 of 621 died in 8 s; with them off, none.
"""

import os

os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
