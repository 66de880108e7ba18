"""``meshserve up`` / ``meshserve status``: the embedded mesh as local processes."""
