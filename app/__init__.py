"""NextBest: cross-sell and upsell recommendations served over HTTP.

`app` is the service (configuration, database, ingestion, HTTP, CLI); the
recommendation science lives in the separate `models` package, which never
imports this one.
"""

__version__ = "0.1.0"
