"""Document 003 (Auterity): ``/api/ai/*``, ``/api/analytics/*``, ``/api/gateway/route``."""
