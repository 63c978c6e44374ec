# LE-SDE Lab analysis worker: lesde (shared) + lesde-analyzer (numpy, scipy, matplotlib). No torch.
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLBACKEND=Agg

RUN useradd --create-home --uid 1000 lesde
WORKDIR /app

# Dependencies first, from the manifests alone: this layer is rebuilt when a pyproject.toml
# changes, not on every change to our code.
COPY deploy/requirements_from_pyproject.py /app/deploy/
COPY shared/client/pyproject.toml /app/shared/
COPY services/analyzer/pyproject.toml /app/services/analyzer/
RUN python /app/deploy/requirements_from_pyproject.py /app/shared/client/pyproject.toml "/app/services/analyzer/pyproject.toml[worker]" \
        > /app/requirements.txt \
    && pip install -r /app/requirements.txt

# Then our code, without resolving again; pip check fails the build if a dependency was missed.
COPY shared/ /app/shared/
COPY services/analyzer/ /app/services/analyzer/
RUN pip install --no-deps /app/shared /app/services/analyzer && pip check

USER lesde
CMD ["celery", "-A", "lesde_analyzer.worker", "worker", "-Q", "analyze", "--loglevel=INFO"]
