#!/usr/bin/env bash
# Benchmark: Kakehashi's xAPI LRS side by side with PyPI `ralph-malph` (Ralph LRS) on this
# machine, same loopback, same load driver (crates/kakehashi/examples/xapi_load.rs), one run.
#
#   bench/lrs/run.sh [STORED] [SECONDS]     (default 1,000,000 stored statements, 10 s each)
#
# Issue 6 targets: single-statement POST >= 1,000 statements/s; batches of 100 >= 5,000
# statements/s; at STORED statements GET by agent p95 <= 30 ms, by id <= 5 ms, verb+since
# <= 100 ms. Also reported: bytes stored per statement.
#
# Both servers are pinned to CPU 0 and the driver to CPU 1 (`taskset`). Kakehashi runs on its
# embedded default (SQLite in a data directory).
#
# Ralph: the only backend that runs here is `fs` (its Elasticsearch, MongoDB and ClickHouse
# backends need servers that are not installable from Debian, PyPI or npm). Ralph 5.1.0's fs
# LRS backend writes each request with operation type `create` and refuses every write after
# the first ("… already exists and overwrite is not allowed"), so the script records what its
# write benchmark answers, then loads Ralph with one single POST of RALPH_STORED statements
# and measures its queries at that size.
set -euo pipefail
cd "$(dirname "$0")/../.."
stored="${1:-1000000}"
secs="${2:-10}"
ralph_stored="${RALPH_STORED:-10000}"
work="${KAKEHASHI_BENCH_DIR:-/tmp/kakehashi-bench-lrs}"
rm -rf "$work/data" "$work/ralph" && mkdir -p "$work/ralph/data"
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
venv="$work/ralph-venv"
if [ ! -x "$venv/bin/uvicorn" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'ralph-malph[cli,lrs]==5.1.0' requests
fi

cargo build --release -q -p kakehashi --bins --examples
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/kakehashi"
load="$target/release/examples/xapi_load"
kh_port=18180
ralph_port=18181
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -r)"
echo "kakehashi $(git rev-parse --short HEAD) (SQLite); ralph-malph $("$venv/bin/pip" show ralph-malph | sed -n 's/^Version: //p') (fs backend)"

export KAKEHASHI_DATA_DIR="$work/data"
unset KAKEHASHI_DATABASE_URL
"$bin" tenant add --id bench --name "ベンチ市" >/dev/null 2>&1
cred=$("$bin" lrs credential add --tenant bench --name bench --xapi-version 1.0.3 --format json 2>/dev/null)
kh_key=$(jq -r .key <<<"$cred"); kh_secret=$(jq -r .secret <<<"$cred")
taskset -c 0 "$bin" serve --listen "127.0.0.1:$kh_port" --public-url "http://127.0.0.1:$kh_port" \
  >"$work/kakehashi.log" 2>&1 &
pids+=($!)

RALPH_AUTH_FILE="$work/ralph/auth.json" RALPH_RUNSERVER_BACKEND=fs "$venv/bin/ralph" auth -u bench -p bench-secret -s all \
  -M mailto:bench@example.jp -w >"$work/ralph-auth.log" 2>&1 || { cat "$work/ralph-auth.log" >&2; exit 1; }
start_ralph() {
  RALPH_AUTH_FILE="$work/ralph/auth.json" RALPH_RUNSERVER_BACKEND=fs \
  RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH="$work/ralph/data" \
    taskset -c 0 "$venv/bin/python" -m uvicorn ralph.api:app --host 127.0.0.1 --port "$ralph_port" \
    --log-level warning >>"$work/ralph.log" 2>&1 &
  ralph_pid=$!; pids+=($ralph_pid)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ralph_port/__lbheartbeat__" >/dev/null && return; sleep 0.1; done
  echo "Ralph did not start" >&2; cat "$work/ralph.log" >&2; exit 1
}
start_ralph
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$kh_port/healthz" >/dev/null && break; sleep 0.1; done

kh=(--endpoint "http://127.0.0.1:$kh_port/t/bench/xapi" --key "$kh_key" --secret "$kh_secret")
ra=(--endpoint "http://127.0.0.1:$ralph_port/xAPI" --key bench --secret bench-secret)
run() { taskset -c 1 "$load" "$@" --seconds "$secs" 2>"$work/err.txt" || echo "{\"error\":$(head -c 300 "$work/err.txt" | jq -Rs .)}"; }
show() { # label json
  printf '%-46s %s\n' "$1" "$(jq -r 'if .error then "FAILED: " + .error else "\(.items_per_second) statements/s, p50 \(.p50_ms) ms, p95 \(.p95_ms) ms, p99 \(.p99_ms) ms" end' <<<"$2" | tr -d '\n')"
}
showq() { # label json
  printf '%-46s %s\n' "$1" "$(jq -r 'if .error then "FAILED: " + .error else "\(.items_per_second) req/s, p50 \(.p50_ms) ms, p95 \(.p95_ms) ms, p99 \(.p99_ms) ms" end' <<<"$2" | tr -d '\n')"
}

k_single=$(run "${kh[@]}" post --batch 1 --threads 8); show "kakehashi POST single" "$k_single"
r_single=$(run "${ra[@]}" post --batch 1 --threads 8); show "ralph     POST single" "$r_single"
k_batch=$(run "${kh[@]}" post --batch 100 --threads 4); show "kakehashi POST batch of 100" "$k_batch"
r_batch=$(run "${ra[@]}" post --batch 100 --threads 4); show "ralph     POST batch of 100" "$r_batch"

# Load the stores for the queries. Kakehashi: STORED statements in batches of 500. Ralph: a
# fresh fs store written by its one working write, a single POST of RALPH_STORED statements.
k_load=$(taskset -c 1 "$load" "${kh[@]}" load --total "$stored" --batch 500 --threads 4)
printf '%-46s %s\n' "kakehashi load $stored statements" "$(jq -r '"\(.items_per_second) statements/s (\(.seconds) s)"' <<<"$k_load")"
kill "$ralph_pid" 2>/dev/null || true; wait "$ralph_pid" 2>/dev/null || true
rm -rf "$work/ralph/data" && mkdir -p "$work/ralph/data"
start_ralph
r_load=$(taskset -c 1 "$load" "${ra[@]}" load --total "$ralph_stored" --batch "$ralph_stored" --threads 1)
printf '%-46s %s\n' "ralph     load $ralph_stored statements (one POST)" "$(jq -r '"\(.items_per_second) statements/s (\(.seconds) s)"' <<<"$r_load")"

declare -A q
for query in id agent verb-since; do
  q[k_$query]=$(run "${kh[@]}" get --query "$query" --stored "$stored" --threads 4)
  showq "kakehashi GET $query at $stored" "${q[k_$query]}"
  q[r_$query]=$(run "${ra[@]}" get --query "$query" --stored "$ralph_stored" --threads 4)
  showq "ralph     GET $query at $ralph_stored" "${q[r_$query]}"
done
# Storage, after the server has stopped (its WAL checkpointed into the database file).
cleanup; pids=(); sleep 1
read -r row_bytes all_bytes total_stored < <(python3 - "$work/data/kakehashi.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
n = db.execute("SELECT COUNT(*) FROM xapi_statements").fetchone()[0]
rows = db.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = 'xapi_statements'").fetchone()[0]
lrs = db.execute("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'xapi%' OR name LIKE 'sqlite_autoindex_xapi%'").fetchone()[0]
print(rows // n, lrs // n, n)
PY
)
printf '%-46s %s\n' "kakehashi bytes per statement" "$row_bytes in the statements table, $all_bytes with every LRS index ($total_stored statements)"
printf '{"kakehashi":{"post_single":%s,"post_batch100":%s,"load":%s,"get_id":%s,"get_agent":%s,"get_verb_since":%s,"bytes_per_statement":%s},"ralph":{"post_single":%s,"post_batch100":%s,"load":%s,"get_id":%s,"get_agent":%s,"get_verb_since":%s}}\n' \
  "$k_single" "$k_batch" "$k_load" "${q[k_id]}" "${q[k_agent]}" "${q[k_verb-since]}" "{\"row\":$row_bytes,\"with_indexes\":$all_bytes}" \
  "$r_single" "$r_batch" "$r_load" "${q[r_id]}" "${q[r_agent]}" "${q[r_verb-since]}"
