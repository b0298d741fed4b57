"""What an operator watches: Prometheus metrics at /metrics, JSON logs, request ids.

`metrics` holds the metric objects, `middleware` counts and times every request and
gives it an id, `scrape` answers /metrics (also across worker processes), `logs` writes
one JSON object per line, `training` keeps the outcome of the last training run.
"""
