#!/usr/bin/env bash
# Makes sure the real services the tests use are installed and running on loopback:
# Redis on 6379, PostgreSQL on 5432 (trust auth for 127.0.0.1, database `test`), and
# Debian's Chromium for the browser test. Idempotent: does nothing when all are there.
# Prints the environment the tests read; `source` it or use scripts/test.sh.
set -euo pipefail

log() { printf 'services: %s\n' "$*" >&2; }

apt_updated=0
need() { # need PACKAGE...: install Debian packages, running apt-get update once first
  if [ "$(id -u)" -ne 0 ]; then
    log "cannot install $* without root: install them, or run as root"; exit 1
  fi
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"; DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2; apt_updated=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

wait_for() { # wait_for SECONDS COMMAND...
  local n=$1; shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  return 1
}

# --- Redis -----------------------------------------------------------------------------
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null || need redis-server
  mkdir -p /var/lib/redis /var/log/redis
  log "starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2
  wait_for 30 redis-cli -h 127.0.0.1 -p 6379 ping || { log "redis did not start"; exit 1; }
fi

# --- PostgreSQL --------------------------------------------------------------------------
pg_ok() { psql -h 127.0.0.1 -p 5432 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; }
if ! pg_ok; then
  command -v pg_ctlcluster >/dev/null || need postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
    log "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
    wait_for 60 pg_isready -h 127.0.0.1 -p 5432 || { log "PostgreSQL did not start"; exit 1; }
  fi
  if ! psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    log "allowing trust auth for loopback in $hba (test machine only)"
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload >&2
    wait_for 30 psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atc 'select 1'
  fi
  psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atc \
    "select 1 from pg_database where datname = 'test'" | grep -q 1 ||
    psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -c 'create database test' >&2
  pg_ok || { log "PostgreSQL database test unreachable"; exit 1; }
fi

# --- Chromium (browser client test) and tmux (terminal client test) ----------------------
command -v chromium >/dev/null || need chromium
command -v tmux >/dev/null || need tmux

echo "export CHATCORE_TEST_REDIS_URL=redis://127.0.0.1:6379"
echo "export CHATCORE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test"
