#!/usr/bin/env bash
# Install (if missing) and start Debian's PostgreSQL on 127.0.0.1:5432, create the `scf` test role
# and database, and print the SQLAlchemy URL for SCF_TEST_POSTGRES_URL. Idempotent; needs root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
  apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends postgresql >&2
fi
read -r version cluster _ <<<"$(pg_lsclusters -h | head -1)"
pg_ctlcluster "$version" "$cluster" start >&2 2>/dev/null || true
for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_roles WHERE rolname='scf'\" | grep -q 1 \
  || psql -q -c \"CREATE ROLE scf LOGIN SUPERUSER PASSWORD 'scf'\"" >&2
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname='scf_test'\" | grep -q 1 \
  || createdb -O scf scf_test" >&2
echo "postgresql+psycopg://scf:scf@127.0.0.1:5432/scf_test"
