"""What operators see of a running service: Prometheus metrics and structured log lines.

A neutral package (only ``prometheus_client`` and the standard library) so that every layer
can count what it decides without importing another layer: the transports count requests,
the application layer counts claims, suggestions and job endings, the store counts retried
transactions and pool checkouts.
"""
