#!/usr/bin/env bash
# `make cluster`: the cluster mode on one machine (DESIGN §7). Postgres and Redis
# (started when down), migrations, the demo user, two API processes on
# 127.0.0.1:8000 and :8001 and two workers. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
DB_NAME=${REASONFLOW_CLUSTER_DB:-reasonflow}

bash scripts/services.sh
if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" \
    | grep -q 1; then
  echo "cluster: creating database $DB_NAME"
  psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE \"$DB_NAME\"" >/dev/null
fi

export REASONFLOW_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$DB_NAME"
export REASONFLOW_JOB_STORE=redis REASONFLOW_QUEUE=saq
export REASONFLOW_REDIS_URL=${REASONFLOW_REDIS_URL:-redis://127.0.0.1:6379/0}
$BIN/reasonflow db upgrade
$BIN/reasonflow demo
# Every process signs tokens with the same secret: make it once, here.
$BIN/python -c "from pathlib import Path; from reasonflow.adapters.auth.tokens import \
load_or_create_secret as s; s(Path('var/jwt_secret'))"
export REASONFLOW_JWT_SECRET="$(cat var/jwt_secret)"

pids=()
stop() { kill -TERM "${pids[@]}" 2>/dev/null || true; wait; }
trap stop INT TERM EXIT
for port in 8000 8001; do
  $BIN/reasonflow serve --host 127.0.0.1 --port "$port" & pids+=($!)
done
for _ in 1 2; do
  $BIN/reasonflow worker & pids+=($!)
done
echo "cluster: API on http://127.0.0.1:8000 and :8001, 2 workers; Ctrl-C stops them"
wait
