#!/usr/bin/env bash
# Runs the whole test suite against real services: installs and starts Redis, PostgreSQL and
# Chromium when missing (scripts/services.sh), then `cargo test --workspace` with the
# `postgres` and `redis` features of chat-server on, so the multi-node tests
# (examples/tests/multinode/) run real chat-server processes on PostgreSQL and Redis.
# `chatcore-client/cli` builds chat-cli, so its end-to-end tests run too.
# Extra arguments go to cargo test (e.g. `scripts/test.sh --test multinode`).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/services.sh)"
export CHATCORE_TEST_REDIS_URL CHATCORE_TEST_POSTGRES_URL
exec cargo test --workspace --features chatcore-examples/postgres,chatcore-examples/redis,chatcore-client/cli "$@"
