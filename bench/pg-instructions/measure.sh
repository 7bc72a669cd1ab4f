#!/bin/bash
# PostgreSQL instructions per create or status change, counted by callgrind (repeatable whatever
# else the machine does, unlike CPU time). A private cluster runs under callgrind on a fresh copy
# of a saved state; `drive.mjs` sends the repository's own create or status change over one
# connection, 20 and then 1,020 transactions; the difference of that backend's counts over 1,000
# is one transaction's cost, the GIN pending list's cleanup and the fold of the count and stage
# changes included (each run ends with both).
#
#   bench/pg-instructions/measure.sh setup <database>          copy a database (e.g. a kept bench one) into a private cluster
#   bench/pg-instructions/measure.sh create|status [variant.sql …] instructions per transaction, after the variants' SQL
#   NO_FOLD=1 bench/pg-instructions/measure.sh status             the same without the fold (the fold's share is the difference)
#   bench/pg-instructions/measure.sh create bench/pg-instructions/without/counts.sql   what a guarantee costs: the same without it
#                                                                (without/: the search document, counts, stage rows, audit row)
#
# Needs valgrind, PostgreSQL 15's binaries and the workspace installed; the private cluster lives in
# $PGI_DIR (default /tmp/pg-instructions) and listens on 127.0.0.1:5499 while it runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${PGI_DIR:-/tmp/pg-instructions}
bin=/usr/lib/postgresql/15/bin
tsx=$here/../../packages/db/node_modules/.bin/tsx
as_pg() { su postgres -c "$*"; }
case "${1:-}" in
  setup)
    rm -rf "$dir" && mkdir -p "$dir" && chown postgres "$dir"
    as_pg "$bin/initdb -D $dir/base -A trust -U postgres >/dev/null"
    as_pg "$bin/pg_ctl -D $dir/base -o '-p 5499 -k /tmp -c autovacuum=off' -l $dir/log start >/dev/null"
    createdb -h 127.0.0.1 -p 5499 -U postgres xp
    pg_dump -h 127.0.0.1 -U postgres "$2" | psql -q -h 127.0.0.1 -p 5499 -U postgres xp 2>&1 | grep -v 'role .* does not exist' || true
    psql -h 127.0.0.1 -p 5499 -U postgres xp -qc "update lead.leads set status = 'new' where id in (select id from lead.leads where status <> 'new' order by id limit 3000)"
    psql -h 127.0.0.1 -p 5499 -U postgres xp -Atc "select id from lead.leads where status = 'new' order by id limit 3000" > "$dir/ids.txt"
    # No transaction: what the reset appended is folded (and the GIN pending list cleaned) into the saved state.
    "$tsx" "$here/drive.mjs" status 0 postgres://postgres@127.0.0.1:5499/xp "$dir/ids.txt" > /dev/null
    psql -h 127.0.0.1 -p 5499 -U postgres xp -qc 'vacuum analyze' -c checkpoint
    as_pg "$bin/pg_ctl -D $dir/base stop >/dev/null"
    echo "saved $(wc -l < "$dir/ids.txt") leads for status changes in $dir/base" ;;
  create|status)
    kind=$1; shift
    # The variants' statements, in the order given, as one file (single-user mode: one statement per line).
    if [ $# -gt 0 ]; then cat "$@"; fi > "$dir/variant.sql"
    run() {
      rm -rf "$dir/data" "$dir"/callgrind.* "$dir/variant.txt" && cp -a "$dir/base" "$dir/data"
      if [ -s "$dir/variant.sql" ]; then as_pg "$bin/postgres --single -D $dir/data xp < $dir/variant.sql > $dir/variant.txt 2>&1"; fi
      if grep -q ERROR "$dir/variant.txt" 2>/dev/null; then grep -m3 ERROR "$dir/variant.txt" >&2; exit 1; fi
      as_pg "valgrind --tool=callgrind --callgrind-out-file=$dir/callgrind.%p $bin/postgres -D $dir/data -p 5499 -k /tmp -c autovacuum=off -c synchronous_commit=off > $dir/server.txt 2>&1 &"
      until pg_isready -q -h 127.0.0.1 -p 5499; do sleep 0.5; done
      backend=$("$tsx" "$here/drive.mjs" "$kind" "$1" postgres://postgres@127.0.0.1:5499/xp "$dir/ids.txt")
      as_pg "$bin/pg_ctl -D $dir/data -m fast -w stop > /dev/null"
      callgrind_annotate "$dir/callgrind.$backend" | awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }'
    }
    a=$(run 20); b=$(run 1020)
    echo "$kind ${*:-as migrated}: $(((b - a) / 1000)) PostgreSQL instructions per transaction (the backend's profile: $dir/callgrind.<pid>)" ;;
  *) sed -n 2,16p "$0"; exit 2 ;;
esac
