"""Seeded demo data: a shop and a SaaS business whose buying patterns are planted and known.

`app.demo.generate.generate` writes the CSV files the importer reads; docs/demo-data.md
lists every planted mechanism with its numbers, so models can be checked against them.
"""
