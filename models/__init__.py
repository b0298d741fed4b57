"""Recommendation science for NextBest: numpy, scipy and implicit only.

Nothing here imports `app`, FastAPI or SQLAlchemy, reads the environment or does I/O
beyond saving and loading its own artifacts, so every piece is testable on small arrays.
"""
