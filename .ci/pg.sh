#!/usr/bin/env bash
# Throw-away PostgreSQL for the registry tests (issue 13). SOURCE it from .ci/run before pytest:
#     . .ci/pg.sh
# It installs Debian's postgresql package when missing, runs initdb in a temporary folder owned
# by an unprivileged user (initdb/pg_ctl refuse root), starts the server on a free local port
# (127.0.0.1 only, trust authentication), exports GRAPPES_TEST_PG_URL, and stops and deletes
# everything when the calling shell exits. If the server cannot start, this script fails, and
# so does CI: the PostgreSQL tests are never skipped.

pg_bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "${GRAPPES_TEST_PG_URL:-}" ]; then
  if [ -z "$(pg_bin_dir)" ]; then
    if command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
  fi
  PG_BIN="$(pg_bin_dir)"
  if [ -z "$PG_BIN" ]; then
    echo "PostgreSQL introuvable (/usr/lib/postgresql/*/bin) et impossible à installer" >&2
    return 1 2>/dev/null || exit 1
  fi
  PG_ROOT="$(mktemp -d /tmp/grappes-pg-XXXXXX)"
  PG_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  PG_RUN=()
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    chown postgres "$PG_ROOT"
    PG_RUN=(runuser -u postgres --)
  fi
  chmod 700 "$PG_ROOT"
  "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$PG_ROOT/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_ROOT/data" -l "$PG_ROOT/log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_ROOT -c max_connections=200 -c fsync=off" start >/dev/null \
    || { cat "$PG_ROOT/log" >&2; return 1 2>/dev/null || exit 1; }
  export GRAPPES_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
  _grappes_pg_stop() {
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_ROOT/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_ROOT"
  }
  trap _grappes_pg_stop EXIT
  echo "PostgreSQL de test : $GRAPPES_TEST_PG_URL"
fi
