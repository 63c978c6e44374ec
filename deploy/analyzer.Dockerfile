# LE-SDE Lab analysis worker: lesde-contract + lesde-runtime (shared/) + lesde-analyzer (numpy, scipy, matplotlib). No torch.
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
COPY shared/contract/pyproject.toml /app/shared/contract/
COPY shared/runtime/pyproject.toml /app/shared/runtime/
COPY services/analyzer/pyproject.toml /app/services/analyzer/
RUN python /app/deploy/requirements_from_pyproject.py /app/shared/contract/pyproject.toml /app/shared/runtime/pyproject.toml "/app/services/analyzer/pyproject.toml[worker]" \
        > /app/requirements.txt \
    && pip install -r /app/requirements.txt

# Then our code, without resolving again; pip check fails the build if a dependency was missed.
COPY shared/contract/ /app/shared/contract/
COPY shared/runtime/ /app/shared/runtime/
COPY services/analyzer/ /app/services/analyzer/
RUN pip install --no-deps /app/shared/contract /app/shared/runtime /app/services/analyzer && pip check

USER lesde
CMD ["celery", "-A", "lesde_analyzer.worker", "worker", "-Q", "analyze", "--loglevel=INFO"]
