"""Text-generation plugins: pre- and postprocessing stages of the inference data plane.

A plugin is a :class:`~services.inference.plugins.base.Plugin` subclass: metadata, a pydantic
``Settings`` model (its schema) and either ``preprocess`` (rewrites or refuses a request before the
model sees it) or ``stream`` (rewrites generated text as it streams out). Plugins are discovered from
the built-ins and the ``meshserve.plugins`` entry point group (:mod:`.discovery`), loaded and
configured at run time (:mod:`.manager`), and run in priority order on every ``Generate`` call
(:mod:`.pipeline`, wired into the servicer by :mod:`.servicer`). Nothing here imports the
transport except :mod:`.servicer`.
"""
