#!/usr/bin/env bash
# Streaming validation of a city-sized OneRoster package: 1,000,000 users, 5,000,000
# enrollments, ~30,000 classes, ~1,000 orgs. Prints wall time and peak RSS of
#   1. the floor: every CSV read with the plain csv crate, rows counted (examples/csv_floor.rs)
#   2. the library's validate() called directly (examples/validate.rs)
#   3. `kakehashi oneroster validate DIR --format json`, when the binary builds
# Targets: validate ≤ 15 s wall and ≤ 512 MB peak RSS, release build, 2 cores.
#
# Usage: bench/oneroster/validate.sh [USERS] [ENROLLMENTS_PER_USER]
# Env:   BENCH_DIR (default /tmp/kakehashi-bench-oneroster), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
USERS=${1:-1000000}
PER_USER=${2:-5}
DIR=${BENCH_DIR:-/tmp/kakehashi-bench-oneroster}/u${USERS}-e${PER_USER}
TARGET=${CARGO_TARGET_DIR:-target}
export CARGO_TARGET_DIR=$TARGET

if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (Debian package \`time\`) for peak RSS" >&2
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

cargo build --release -p kakehashi-oneroster --examples
if [ ! -f "$DIR/enrollments.csv" ]; then
  "$TARGET/release/examples/gen_roster" "$DIR" "$USERS" "$PER_USER" 1
fi
du -sh "$DIR"
wc -l "$DIR"/*.csv

measure() {
  local label=$1; shift
  local log
  log=$(mktemp)
  # Drop the page cache effect of the first run: read the package once before measuring.
  # A measured command that fails is a failed benchmark, not a figure.
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || { cat "$log" >&2; echo "FAIL: $label" >&2; exit 1; }
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$log" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$log" | awk '{print $NF}')
  grep -E 'error\(s\)|rows in' "$log" || true
  printf '%-34s wall %-9s peak RSS %6d MB\n' "$label" "$wall" $((rss / 1024))
  rm -f "$log"
}

cat "$DIR"/*.csv >/dev/null  # warm the page cache so all runs read from memory alike
measure "csv floor (examples/csv_floor)" "$TARGET/release/examples/csv_floor" "$DIR"
measure "validate() (examples/validate)" "$TARGET/release/examples/validate" "$DIR"
cargo build --release -p kakehashi
measure "kakehashi oneroster validate" "$TARGET/release/kakehashi" oneroster validate "$DIR" --format json
