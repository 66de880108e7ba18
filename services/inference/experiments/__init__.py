"""A/B experiments over text models (document 003's ``ab-test``): records and validation
(:mod:`.records`), sticky arm assignment (:mod:`.assign`), storage in the inference store
(:mod:`.store`), per-arm figures and scipy tests (:mod:`.stats`), routing inside the generation
pipeline (:mod:`.router`) and the gRPC face (:mod:`.servicer`). No transport below the servicer."""
