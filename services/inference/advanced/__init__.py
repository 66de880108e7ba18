"""Advanced inference (document 003 ``/api/ai/advanced/*``) in the data plane: model routing
(:mod:`.routing`), benchmarks (:mod:`.benchmark`) and the response cache (:mod:`.cache`), served
by the mixin in :mod:`.servicer`. Only :mod:`.servicer` imports the transport.
"""
