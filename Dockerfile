# syntax=docker/dockerfile:1
# NextBest: build a virtualenv in one stage, run it from a slim image as a non-root user.
# Configuration is by environment only (NEXTBEST_*); the schema is migrated on start.

FROM python:3.12-slim AS build
WORKDIR /src
RUN python -m venv /opt/nextbest
COPY pyproject.toml constraints.txt README.md ./
COPY app ./app
COPY models ./models
COPY migrations ./migrations
RUN /opt/nextbest/bin/pip install --no-cache-dir -c constraints.txt .

FROM python:3.12-slim
ENV PATH=/opt/nextbest/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    OPENBLAS_NUM_THREADS=1 \
    NEXTBEST_DATABASE_URL=sqlite:////data/nextbest.db \
    NEXTBEST_MODEL_DIR=/data/models \
    NEXTBEST_WORKERS=2
RUN useradd --system --uid 10001 --create-home --home-dir /data nextbest
COPY --from=build /opt/nextbest /opt/nextbest
USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
# Readiness, not liveness: /readyz fails while the schema is behind, or while the
# database is down and no model is loaded; it stays up (degraded) while a model answers.
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
CMD ["sh", "-c", "nextbest init-db && exec nextbest serve --host 0.0.0.0 --port 8000"]
