#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL on loopback for the tests (Debian's package; no service manager).
# Usage: .ci/postgres.sh start DIR PORT   -> prints the SQLAlchemy URL
#        .ci/postgres.sh stop DIR
set -euo pipefail
action=$1; dir=$2; port=${3:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
case "$action" in
  start)
    mkdir -p "$dir"; chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
    fi
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    runuser -u postgres -- "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qtAc \
      "SELECT 1 FROM pg_database WHERE datname='buurtbeeld_test'" | grep -q 1 \
      || runuser -u postgres -- "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres buurtbeeld_test
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/buurtbeeld_test"
    ;;
  stop)
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
esac
