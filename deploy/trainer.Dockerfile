# LE-SDE Lab training worker: lesde-contract + lesde-runtime (shared/) + lesde-trainer (torch, torchvision) on a CUDA base.
# gcc builds the native LeNet kernel for the host's CPU at first use (engine/native_build.py).
# The torch wheels from PyPI bundle their CUDA libraries; the base image supplies the CUDA
# user-space environment the NVIDIA container toolkit expects. Python 3.11 from deadsnakes.
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04
FROM ${CUDA_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN apt-get update \
    && apt-get install -y --no-install-recommends software-properties-common gpg-agent \
    && add-apt-repository -y ppa:deadsnakes/ppa \
    && apt-get update \
    && apt-get install -y --no-install-recommends python3.11 python3.11-venv gcc libc6-dev \
    && apt-get purge -y software-properties-common gpg-agent \
    && apt-get autoremove -y \
    && rm -rf /var/lib/apt/lists/* \
    && python3.11 -m venv /opt/venv

# torch first, in a layer of its own: it is large and changes far less often than our code.
ARG TORCH_INDEX_URL=
RUN pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple} \
        torch==2.14.1

RUN useradd --create-home --uid 1000 lesde \
    && mkdir -p /data \
    && chown lesde:lesde /data
WORKDIR /app

# The other dependencies, from the manifests alone: this layer is rebuilt when a
# pyproject.toml changes, not on every change to our code (torch is already satisfied).
COPY deploy/requirements_from_pyproject.py /app/deploy/
COPY shared/contract/pyproject.toml /app/shared/contract/
COPY shared/runtime/pyproject.toml /app/shared/runtime/
COPY services/trainer/pyproject.toml /app/services/trainer/
RUN python /app/deploy/requirements_from_pyproject.py /app/shared/contract/pyproject.toml /app/shared/runtime/pyproject.toml /app/services/trainer/pyproject.toml \
        > /app/requirements.txt \
    && pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple} \
        -r /app/requirements.txt

# Then our code, without resolving again; pip check fails the build if a dependency was missed.
COPY shared/contract/ /app/shared/contract/
COPY shared/runtime/ /app/shared/runtime/
COPY services/trainer/ /app/services/trainer/
RUN pip install --no-deps /app/shared/contract /app/shared/runtime /app/services/trainer && pip check

USER lesde
ENV LESDE_DATA_DIR=/data
CMD ["celery", "-A", "lesde_trainer.worker", "worker", "-Q", "train", "--loglevel=INFO", "--concurrency=1"]
