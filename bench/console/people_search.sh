#!/usr/bin/env bash
# Benchmark: the console's people search (`GET /t/{tenant}/api/v1/people?q=…`, the same
# service as the console page) at N users (default 500,000; target: <= 100 ms per search).
# Imports a generated roster into a tenant, registers an admin API client (tenant admin, and a
# school admin of one school), starts a release server and times searches by username prefix,
# family-name prefix (one and two characters, and the tenth page of one), kana (hiragana typed,
# katakana stored) and an empty query (browse), each REPEAT times after one warm-up, on SQLite and on PostgreSQL.
# Prints p50 / p95 / max per query and backend (curl's time_total, loopback).
#
#   bench/console/people_search.sh [USERS] [REPEAT]
#
# KAKEHASHI_BENCH_BACKENDS="sqlite postgresql" (the default) picks the backends.
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`) like the test suite; set
# KAKEHASHI_BENCH_POSTGRES_URL to use another. The database must use the C or C.UTF-8
# collation (docs/CONSOLE.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
users="${1:-500000}"
repeat="${2:-50}"
pg_url="${KAKEHASHI_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
work="${KAKEHASHI_BENCH_DIR:-/tmp/kakehashi-bench}"
mkdir -p "$work"

cargo build --release -q -p kakehashi -p kakehashi-oneroster --examples --bins
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/kakehashi"
pkg="$work/roster-$users"
if [ ! -f "$pkg/manifest.csv" ]; then
  "$target/release/examples/gen_roster" "$pkg" "$users" >/dev/null
fi
echo "package: $pkg ($(($(wc -l <"$pkg/users.csv") - 1)) users)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"

# Sample values from the package (column positions from its header row).
col() { # file, header name -> the value of that column on data row $3 (1-based)
  python3 - "$1" "$2" "$3" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")))
print(rows[int(sys.argv[3]) - 1][sys.argv[2]])
PY
}
sample_row=$(( (users / 3) + 1 ))
username=$(col "$pkg/users.csv" username "$sample_row")
family=$(col "$pkg/users.csv" familyName "$sample_row")
kana_k=$(col "$pkg/users.csv" metadata.jp.kanaFamilyName "$sample_row" 2>/dev/null || true)
school=$(python3 - "$pkg/orgs.csv" <<'PY'
import csv, sys
print(next(r["sourcedId"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")) if r["type"] == "school"))
PY
)
hira() { python3 -c 'import sys; print("".join(chr(ord(c)-0x60) if "ァ"<=c<="ヶ" else c for c in sys.argv[1]))' "$1"; }
urlenc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
queries=(
  "username-prefix:${username:0:6}"
  "family-1-char:${family:0:1}"
  "family-1-char-page-10:${family:0:1}"
  "family-2-chars:${family:0:2}"
  "kana-hiragana:$(hira "${kana_k:0:3}")"
  "browse:"
)

run_backend() { # name, env...
  local name="$1"; shift
  local dd="$work/console-$name"
  rm -rf "$dd"
  env "$@" KAKEHASHI_DATA_DIR="$dd" "$bin" tenant add --id bench --name "ベンチ市" >/dev/null
  local t0=$SECONDS
  env "$@" KAKEHASHI_DATA_DIR="$dd" "$bin" oneroster import --tenant bench "$pkg" >/dev/null
  echo "$name: imported $users users in $((SECONDS - t0)) s"
  local reg admin_id admin_secret school_id school_secret
  reg=$(env "$@" KAKEHASHI_DATA_DIR="$dd" "$bin" app add --tenant bench --name bench-admin --protocol oidc \
    --security-class learning --redirect-uri https://bench.example/cb --format json)
  admin_id=$(jq -r .client_id <<<"$reg"); admin_secret=$(jq -r .client_secret <<<"$reg")
  reg=$(env "$@" KAKEHASHI_DATA_DIR="$dd" "$bin" app add --tenant bench --name bench-school --protocol oidc \
    --security-class learning --redirect-uri https://bench.example/cb --format json)
  school_id=$(jq -r .client_id <<<"$reg"); school_secret=$(jq -r .client_secret <<<"$reg")
  env "$@" KAKEHASHI_DATA_DIR="$dd" "$bin" admin grant --tenant bench --client "$admin_id" --role tenant-admin >/dev/null
  env "$@" KAKEHASHI_DATA_DIR="$dd" "$bin" admin grant --tenant bench --client "$school_id" --role school-admin \
    --school "$school" >/dev/null
  local port=$((20000 + RANDOM % 20000))
  env "$@" KAKEHASHI_DATA_DIR="$dd" "$bin" serve --listen "127.0.0.1:$port" >"$work/serve-$name.log" 2>&1 &
  local pid=$!
  trap "kill $pid 2>/dev/null || true" RETURN
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  token() {
    curl -sf -u "$1:$2" -d grant_type=client_credentials -d scope=admin \
      "http://127.0.0.1:$port/t/bench/token" | jq -r .access_token
  }
  local who tok
  for who in tenant-admin school-admin; do
    if [ "$who" = tenant-admin ]; then tok=$(token "$admin_id" "$admin_secret"); else tok=$(token "$school_id" "$school_secret"); fi
    for entry in "${queries[@]}"; do
      local label="${entry%%:*}" q="${entry#*:}"
      local url="http://127.0.0.1:$port/t/bench/api/v1/people?limit=50&q=$(urlenc "$q")"
      if [ "$label" = family-1-char-page-10 ]; then
        # Follow `next` nine times: the tenth page of a common family name's first letter.
        local n
        # (A school admin's reach may have fewer pages: then its last page.)
        for n in $(seq 9); do
          curl -sf -H "Authorization: Bearer $tok" -o "$work/page.json" "$url"
          local after; after=$(jq -r '.next // empty' "$work/page.json")
          [ -n "$after" ] || break
          url="${url%%&after=*}&after=$after"
        done
      fi
      curl -sf -H "Authorization: Bearer $tok" -o "$work/page.json" "$url"
      local hits; hits=$(jq '.items | length' "$work/page.json")
      for _ in $(seq "$repeat"); do
        curl -sf -H "Authorization: Bearer $tok" -o /dev/null -w '%{time_total}\n' "$url"
      done | sort -n | awk -v n="$repeat" -v l="$name $who $label (q=$q, $hits shown)" \
        '{ t[NR] = $1 * 1000 } END { printf "%-70s p50 %6.1f ms  p95 %6.1f ms  max %6.1f ms\n", l, t[int(n * 0.5) + 1], t[int(n * 0.95)], t[n] }'
    done
  done
}

backends="${KAKEHASHI_BENCH_BACKENDS:-sqlite postgresql}"
if [[ " $backends " == *" sqlite "* ]]; then
  run_backend sqlite
fi
if [[ " $backends " == *" postgresql "* ]]; then
  schema="kh_bench_console_$$"
  psql "$pg_url" -qc "CREATE SCHEMA $schema" >/dev/null
  trap 'psql "$pg_url" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true' EXIT
  run_backend postgresql KAKEHASHI_DATABASE_URL="$pg_url?options=-c%20search_path%3D$schema"
fi
