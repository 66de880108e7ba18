"""Document 000 (ACE3): model upload, listing and prediction under ``/v1/models``."""
