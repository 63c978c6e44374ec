# LE-SDE Lab HTTP gateway: lesde-contract + lesde-runtime (shared/) + lesde-api only. No torch, no scipy.
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 lesde
WORKDIR /app

# Dependencies first, from the manifests alone: this layer is rebuilt when a pyproject.toml
# changes, not on every change to our code.
COPY deploy/requirements_from_pyproject.py /app/deploy/
COPY shared/contract/pyproject.toml /app/shared/contract/
COPY shared/runtime/pyproject.toml /app/shared/runtime/
COPY services/api/pyproject.toml /app/services/api/
RUN python /app/deploy/requirements_from_pyproject.py /app/shared/contract/pyproject.toml /app/shared/runtime/pyproject.toml /app/services/api/pyproject.toml \
        > /app/requirements.txt \
    && pip install -r /app/requirements.txt

# Then our code, without resolving again; pip check fails the build if a dependency was missed.
COPY shared/contract/ /app/shared/contract/
COPY shared/runtime/ /app/shared/runtime/
COPY services/api/ /app/services/api/
RUN pip install --no-deps /app/shared/contract /app/shared/runtime /app/services/api && pip check

USER lesde
EXPOSE 8000
CMD ["uvicorn", "lesde_api.main:app", "--host", "0.0.0.0", "--port", "8000", "--http", "lesde_api.slow_clients:GuardedH11Protocol"]
