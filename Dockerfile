# Buurtbeeld image: the project with its Airflow extra, installed exactly as uv.lock pins it (no dev
# tools). One image for every service; docker/entrypoint.sh picks the role (see docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra airflow --no-install-project
COPY . .
RUN uv sync --frozen --no-dev --extra airflow \
    && python -m compileall -q dags \
    && useradd --system --uid 50000 --home-dir /app buurtbeeld \
    && mkdir -p /data/inbox /data/archive /data/quarantine /opt/airflow \
    && chown -R buurtbeeld /data /opt/airflow
ENV PATH=/opt/venv/bin:$PATH BUURTBEELD_DATA_DIR=/data AIRFLOW_HOME=/opt/airflow
USER buurtbeeld
VOLUME ["/data"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["help"]
