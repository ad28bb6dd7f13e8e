# Buurtbeeld image: the project installed exactly as uv.lock pins it (no dev tools).
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev
ENV PATH=/opt/venv/bin:$PATH BUURTBEELD_DATA_DIR=/data
VOLUME ["/data"]
ENTRYPOINT ["buurtbeeld"]
CMD ["--help"]
