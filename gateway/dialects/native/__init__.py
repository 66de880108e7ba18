"""meshserve's own endpoints shared by every document: ``/health``."""
