#!/usr/bin/env bash
# Make sure a PostgreSQL answers on 127.0.0.1:5432 with a `test` database the tests can use
# (user postgres, trust on loopback). Idempotent: an already-running server is only checked.
set -euo pipefail
PGHOST=127.0.0.1
PGPORT=${PGPORT:-5432}
say() { echo "[postgres-up] $*"; }

if ! pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; then
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        say "installing PostgreSQL from Debian's packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q postgresql >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }
    fi
    version=$(ls /etc/postgresql | sort -V | tail -1)
    hba=/etc/postgresql/$version/main/pg_hba.conf
    if ! grep -q "peakwatch-trust" "$hba"; then
        # loopback trust for the test database only (a CI machine, never a production server)
        sed -i "1i host all all 127.0.0.1/32 trust # peakwatch-trust" "$hba"
    fi
    say "starting PostgreSQL $version"
    pg_ctlcluster "$version" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
    pg_isready -h "$PGHOST" -p "$PGPORT" || { say "PostgreSQL did not come up on $PGHOST:$PGPORT"; exit 1; }
fi
if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1; then
    psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -c "CREATE DATABASE test" >/dev/null
fi
say "PostgreSQL answers on $PGHOST:$PGPORT (database test)"
