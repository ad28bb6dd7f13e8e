#!/bin/sh
# Entry point of the Buurtbeeld image: one image, one role per compose service.
#   migrate            warehouse migrations (alembic) and `airflow db migrate`; then exits
#   dashboard          the Dash app under gunicorn on :8050
#   airflow ARGS...    the Airflow CLI (api-server, scheduler, dag-processor, triggerer, ...)
#   anything else      the buurtbeeld CLI (load, batches, rejects, analyses, ...)
# Tested outside Docker by tests/test_deployment_files.py with the project's virtualenv on PATH.
set -eu

# Folders the loads and the DAGs expect; a fresh volume starts empty.
data="${BUURTBEELD_DATA_DIR:-/data}"
for kind in bvh indicatoren buurten stadsdelen; do
    mkdir -p "${BUURTBEELD_INBOX_DIR:-$data/inbox}/$kind"
done
mkdir -p "${BUURTBEELD_ARCHIVE_DIR:-$data/archive}" "${BUURTBEELD_QUARANTINE_DIR:-$data/quarantine}"

role="${1:-help}"
case "$role" in
    migrate)
        buurtbeeld db upgrade
        if [ -n "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}" ]; then
            airflow db migrate
        fi
        ;;
    dashboard)
        shift
        exec gunicorn --config python:dashboard.gunicorn_conf --workers "${DASHBOARD_WORKERS:-2}" --bind "0.0.0.0:${DASHBOARD_PORT:-8050}" \
            --access-logfile - "$@" dashboard.wsgi:server
        ;;
    airflow)
        shift
        exec airflow "$@"
        ;;
    help|--help|-h)
        sed -n '2,7p' "$0"
        ;;
    *)
        exec buurtbeeld "$@"
        ;;
esac
