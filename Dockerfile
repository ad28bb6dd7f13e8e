# Buurtbeeld image: the project with its Airflow extra, installed exactly as uv.lock pins it (no dev
# tools). One image for every service; docker/entrypoint.sh picks the role (see docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.9
# pg_dump/pg_restore for `buurtbeeld backup`/`restore`: the client must be at least the server's version
# (postgres:16 in docker-compose.yml) and bookworm ships 15, so version 16 from the PostgreSQL apt
# repository (its key comes with Debian's postgresql-common).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-common \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends postgresql-client-16 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra airflow --no-install-project
COPY . .
RUN uv sync --frozen --no-dev --extra airflow \
    && python -m compileall -q dags \
    && useradd --system --uid 50000 --home-dir /app buurtbeeld \
    && mkdir -p /data/inbox /data/archive /data/quarantine /data/backups /opt/airflow \
    && chown -R buurtbeeld /data /opt/airflow \
    && chmod 700 /data/backups
ENV PATH=/opt/venv/bin:$PATH BUURTBEELD_DATA_DIR=/data AIRFLOW_HOME=/opt/airflow
USER buurtbeeld
VOLUME ["/data"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["help"]
