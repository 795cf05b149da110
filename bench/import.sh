#!/usr/bin/env bash
# Benchmark: import a generated roster of N users (default 50,000) into an empty tenant with
# `kakehashi oneroster import`, on SQLite (target: <= 10 s) and on PostgreSQL (reported), then
# the same package again (everything unchanged) and an export. Prints one line per step.
#
#   bench/import.sh [USERS]
#
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`) like the test suite; set
# KAKEHASHI_BENCH_POSTGRES_URL to use another.
set -euo pipefail
cd "$(dirname "$0")/.."
users="${1:-50000}"
pg_url="${KAKEHASHI_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
work="${KAKEHASHI_BENCH_DIR:-/tmp/kakehashi-bench}"
mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

cargo build --release -q -p kakehashi -p kakehashi-oneroster --examples --bins
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/kakehashi"
pkg="$work/roster-$users"
if [ ! -f "$pkg/manifest.csv" ]; then
  "$target/release/examples/gen_roster" "$pkg" "$users" >/dev/null
fi
rows() { for f in "$pkg"/*.csv; do printf '%s=%s ' "$(basename "$f" .csv)" "$(($(wc -l <"$f") - 1))"; done; }
echo "package: $pkg ($(rows))"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"

measure() { # label, command...
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" || {
    cat "$work/stderr.txt" >&2; exit 1; }
  read -r secs kb <"$work/time.txt"
  printf '%-44s %8.2f s %8d MB peak RSS\n' "$label" "$secs" "$((kb / 1024))"
}

run_backend() { # name, env...
  local name="$1"; shift
  local dd="$work/data-$name"
  rm -rf "$dd"
  env "$@" KAKEHASHI_DATA_DIR="$dd" "$bin" tenant add --id bench --name "ベンチ市" >/dev/null
  measure "$name: import $users users (empty tenant)" env "$@" KAKEHASHI_DATA_DIR="$dd" "$bin" oneroster import --tenant bench "$pkg"
  measure "$name: import again (all unchanged)" env "$@" KAKEHASHI_DATA_DIR="$dd" "$bin" oneroster import --tenant bench "$pkg"
  measure "$name: export" env "$@" KAKEHASHI_DATA_DIR="$dd" "$bin" oneroster export --tenant bench "$work/export-$name"
}

run_backend sqlite
schema="kh_bench_$$"
psql "$pg_url" -qc "CREATE SCHEMA $schema" >/dev/null
trap 'psql "$pg_url" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true' EXIT
run_backend postgresql KAKEHASHI_DATABASE_URL="$pg_url?options=-c%20search_path%3D$schema"
