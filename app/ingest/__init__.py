"""Ingestion: every submitted row is accepted or rejected with its position, field and reason.

Sources (CSV files, gzip or not; another database through SQL; JSON arrays posted to
the API) all feed the same validation (`rows`) and the same batch writer (`writer`),
so a row means the same thing however it arrives.
"""
