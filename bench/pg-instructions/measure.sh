#!/bin/bash
# PostgreSQL instructions per create or status change, counted by callgrind (repeatable whatever
# else the machine does, unlike CPU time). One backend in single-user mode replays the service's
# statements as prepared statements on a fresh copy of a saved cluster, 20 and then 1,020
# transactions; the difference over 1,000 is one transaction's cost, the GIN pending list's
# cleanup included (each run ends by cleaning it).
#
#   bench/pg-instructions/measure.sh setup <database>          copy a database (e.g. a kept bench one) into a private cluster
#   bench/pg-instructions/measure.sh create|status [variant.sql]  instructions per transaction, after the variant's SQL (one statement per line)
#
# Needs valgrind and PostgreSQL 15's binaries; the private cluster lives in $PGI_DIR (default /tmp/pg-instructions).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${PGI_DIR:-/tmp/pg-instructions}
bin=/usr/lib/postgresql/15/bin
as_pg() { su postgres -c "$*"; }
case "$1" in
  setup)
    rm -rf "$dir" && mkdir -p "$dir" && chown postgres "$dir"
    as_pg "$bin/initdb -D $dir/base -A trust -U postgres >/dev/null"
    as_pg "$bin/pg_ctl -D $dir/base -o '-p 5499 -k /tmp -c autovacuum=off' -l $dir/log start >/dev/null"
    createdb -h 127.0.0.1 -p 5499 -U postgres xp
    pg_dump -h 127.0.0.1 -U postgres "$2" | psql -q -h 127.0.0.1 -p 5499 -U postgres xp 2>&1 | grep -v 'role .* does not exist' || true
    psql -h 127.0.0.1 -p 5499 -U postgres xp -qc "update lead.leads set status = 'new' where id in (select id from lead.leads where status <> 'new' order by id limit 3000)"
    psql -h 127.0.0.1 -p 5499 -U postgres xp -Atc "select id from lead.leads where status = 'new' order by id limit 3000" > "$dir/ids.txt"
    psql -h 127.0.0.1 -p 5499 -U postgres xp -qc 'vacuum analyze' -c checkpoint
    as_pg "$bin/pg_ctl -D $dir/base stop >/dev/null"
    echo "saved $(wc -l < "$dir/ids.txt") leads for status changes in $dir/base" ;;
  create|status)
    run() {
      rm -rf "$dir/data" && cp -a "$dir/base" "$dir/data"
      { if [ -n "${2:-}" ]; then cat "$2"; fi; python3 "$here/statements.py" "$1" "$3" 0 "$dir/ids.txt"; } > "$dir/in.sql"
      as_pg "valgrind --tool=callgrind --callgrind-out-file=$dir/callgrind.$3.out $bin/postgres --single -D $dir/data xp < $dir/in.sql > $dir/out.$3.txt 2>&1"
      if grep -q ERROR "$dir/out.$3.txt"; then grep -m3 ERROR "$dir/out.$3.txt" >&2; exit 1; fi
      callgrind_annotate "$dir/callgrind.$3.out" | awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }'
    }
    a=$(run "$1" "${2:-}" 20); b=$(run "$1" "${2:-}" 1020)
    echo "$1 ${2:-as migrated}: $(((b - a) / 1000)) PostgreSQL instructions per transaction (callgrind profile of 1,020: $dir/callgrind.1020.out)" ;;
  *) sed -n 2,12p "$0"; exit 2 ;;
esac
