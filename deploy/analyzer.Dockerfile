# LE-SDE Lab analysis worker: lesde (shared) + lesde-analyzer (numpy, scipy, matplotlib). No torch.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLBACKEND=Agg

RUN useradd --create-home --uid 1000 lesde
WORKDIR /app

COPY shared/ /app/shared/
COPY services/analyzer/ /app/services/analyzer/
RUN pip install /app/shared /app/services/analyzer

USER lesde
CMD ["celery", "-A", "lesde_analyzer.worker", "worker", "-Q", "analyze", "--loglevel=INFO"]
