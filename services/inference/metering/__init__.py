"""The inference service's side of tenant metering: what each request cost, sent to the auth
service's MeteringService in batches, and the quota and budget check before a generation starts."""
