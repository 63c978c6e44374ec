# LE-SDE Lab HTTP gateway: lesde (shared) + lesde-api only. No torch, no scipy.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 lesde
WORKDIR /app

COPY shared/ /app/shared/
COPY services/api/ /app/services/api/
# Both paths in one call, so the api's "lesde[services]" requirement resolves to the local package.
RUN pip install /app/shared /app/services/api

USER lesde
EXPOSE 8000
CMD ["uvicorn", "lesde_api.main:app", "--host", "0.0.0.0", "--port", "8000"]
