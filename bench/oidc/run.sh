#!/usr/bin/env bash
# Benchmark: Kakehashi's OpenID provider side by side with npm `oidc-provider` (a certified
# OP) on this machine, same loopback, same load tools, one run. Prints one line per figure
# and a JSON summary at the end.
#
#   bench/oidc/run.sh [SECONDS]        (default 10 s per measurement)
#
# What it measures (issue 4 targets in brackets):
#   discovery            GET /.well-known/openid-configuration           [>= 30,000 req/s]
#   jwks                 GET the JWKS                                     (reported)
#   client_credentials   POST /token, client_secret_basic, opaque token  [>= 15,000 req/s]
#   login                full code + PKCE login: authorize, login form, password, redirect,
#                        token (crates/kakehashi/examples/login_load.rs) [>= 600/s, p99 <= 50 ms]
#                        Kakehashi twice: the default argon2id cost (m=19 MiB, t=2) and a
#                        benchmark user whose hash has the cheapest argon2id parameters, i.e.
#                        "without argon2's own cost"; the peer checks passwords by plain
#                        comparison.
#   idle RSS             resident memory after start and one discovery request [<= 30 MB]
#
# Each server is pinned to CPU 0 and the load tool to CPU 1 (`taskset`), so both servers get
# one core and the load tool never competes with them.
#
# Needs: wrk (installed from Debian when missing), node + npm (the peer, installed with
# `npm ci` in bench/oidc/peer).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-10}"
work="${KAKEHASHI_BENCH_DIR:-/tmp/kakehashi-bench-oidc}"
rm -rf "$work" && mkdir -p "$work"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
command -v taskset >/dev/null || { echo "taskset (util-linux) is missing" >&2; exit 1; }
[ -d bench/oidc/peer/node_modules ] || (cd bench/oidc/peer && npm ci --no-audit --no-fund >/dev/null)

cargo build --release -q -p kakehashi --bins --examples
cargo build --release -q -p kakehashi-core --example cheap_hash
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/kakehashi"
driver="$target/release/examples/login_load"
kh_port=18080
peer_port=18081
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -r)"
echo "kakehashi $(git rev-parse --short HEAD); oidc-provider $(node -p "require('./bench/oidc/peer/node_modules/oidc-provider/package.json').version"); node $(node --version)"

# --- Kakehashi: the demo tenant (its teacher minami.t01) and one confidential client ---
export KAKEHASHI_DATA_DIR="$work/data"
unset KAKEHASHI_DATABASE_URL
user=minami.t01
password=demo-teacher-2026
# First start creates the demo tenant (hashing its users' passwords), second start is the
# measured server: idle RSS is that of a server that has only started and answered once.
"$bin" serve --demo --listen "127.0.0.1:$kh_port" --public-url "http://127.0.0.1:$kh_port" \
  >"$work/kakehashi-demo.log" 2>&1 &
demo_pid=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$kh_port/healthz" >/dev/null && break; sleep 0.1; done
kill "$demo_pid"; wait "$demo_pid" 2>/dev/null || true
taskset -c 0 "$bin" serve --listen "127.0.0.1:$kh_port" --public-url "http://127.0.0.1:$kh_port" \
  >"$work/kakehashi.log" 2>&1 &
pids+=($!); kh_pid=$!
taskset -c 0 node bench/oidc/peer/peer.mjs "$peer_port" "$user" "$password" >"$work/peer.log" 2>&1 &
pids+=($!); peer_pid=$!
for url in "http://127.0.0.1:$kh_port/healthz" "http://127.0.0.1:$peer_port/.well-known/openid-configuration"; do
  for _ in $(seq 100); do curl -sf "$url" >/dev/null && break; sleep 0.1; done
  curl -sf "$url" >/dev/null || { echo "server at $url did not start" >&2; cat "$work"/*.log >&2; exit 1; }
done
reg=$("$bin" app add --tenant demo --name "ベンチRP" --protocol oidc --security-class learning \
  --audience all --redirect-uri https://rp.example/cb --format json)
client_id=$(jq -r .client_id <<<"$reg")
client_secret=$(jq -r .client_secret <<<"$reg")
kh_iss="http://127.0.0.1:$kh_port/t/demo"
peer_iss="http://127.0.0.1:$peer_port"
curl -sf "$kh_iss/.well-known/openid-configuration" >/dev/null
rss() { awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
kh_rss=$(rss "$kh_pid"); peer_rss=$(rss "$peer_pid")
printf '%-52s %10s MB   %10s MB\n' "idle RSS (kakehashi | oidc-provider)" "$kh_rss" "$peer_rss"

# wrk: requests/s and p99 latency.
rate() { # url [lua]
  local out
  out=$(taskset -c 1 wrk -t1 -c32 -d"${secs}s" --latency ${2:+-s "$2"} "$1")
  grep -q "Non-2xx" <<<"$out" && { echo "non-2xx answers from $1:" >&2; echo "$out" >&2; exit 1; }
  printf '%s %s' "$(awk '/Requests\/sec/{printf "%.0f", $2}' <<<"$out")" "$(awk '$1=="99%"{print $2}' <<<"$out")"
}
cc_lua() { # client_id secret -> file
  local f="$work/cc-$1.lua"
  printf 'wrk.method = "POST"\nwrk.body = "grant_type=client_credentials"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\nwrk.headers["Authorization"] = "Basic %s"\n' \
    "$(printf '%s:%s' "$1" "$2" | base64 -w0)" >"$f"
  echo "$f"
}
row() { printf '%-52s %10s/s %-9s %10s/s %-9s\n' "$1" "$2" "p99 $3" "$4" "p99 $5"; }

read -r a ap <<<"$(rate "$kh_iss/.well-known/openid-configuration")"
read -r b bp <<<"$(rate "$peer_iss/.well-known/openid-configuration")"
row "discovery (kakehashi | oidc-provider)" "$a" "$ap" "$b" "$bp"; disc=("$a" "$b")
read -r a ap <<<"$(rate "$kh_iss/jwks")"
read -r b bp <<<"$(rate "$peer_iss/jwks")"
row "jwks (kakehashi | oidc-provider)" "$a" "$ap" "$b" "$bp"; jwks=("$a" "$b")
kh_token=$(jq -r .token_endpoint < <(curl -sf "$kh_iss/.well-known/openid-configuration"))
read -r a ap <<<"$(rate "$kh_token" "$(cc_lua "$client_id" "$client_secret")")"
read -r b bp <<<"$(rate "$peer_iss/token" "$(cc_lua bench bench-secret-0123456789)")"
row "client_credentials opaque (kakehashi | oidc-provider)" "$a" "$ap" "$b" "$bp"; cc=("$a" "$b")

login() { # authorize token client secret password threads
  taskset -c 1 "$driver" --authorize "$1" --token "$2" --client-id "$3" --client-secret "$4" \
    --redirect-uri https://rp.example/cb --username "$user" --password "$5" \
    --threads "$6" --seconds "$secs"
}
kh_auth=$(jq -r .authorization_endpoint < <(curl -sf "$kh_iss/.well-known/openid-configuration"))
l_kh=$(login "$kh_auth" "$kh_token" "$client_id" "$client_secret" "$password" 8)
# "Without argon2's own cost": the same user with the cheapest argon2id parameters (the
# verifier reads them from the stored hash).
cheap=$(printf '%s' "$password" | "$target/release/examples/cheap_hash")
python3 - "$work/data/kakehashi.db" "$cheap" "$user" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("UPDATE credentials SET password_hash = ? WHERE tenant_id = 'demo' AND user_sourced_id = "
               "(SELECT sourced_id FROM users WHERE tenant_id = 'demo' AND username = ?)",
               (sys.argv[2], sys.argv[3])).rowcount
db.commit()
sys.exit(0 if n == 1 else "could not set the cheap hash")
PY
l_kh_cheap=$(login "$kh_auth" "$kh_token" "$client_id" "$client_secret" "$password" 8)
l_peer=$(login "$peer_iss/auth" "$peer_iss/token" bench bench-secret-0123456789 "$password" 8)
lrow() { printf '%-52s %10s/s p50 %s ms p99 %s ms\n' "$1" "$(jq -r .per_second <<<"$2")" "$(jq -r .p50_ms <<<"$2")" "$(jq -r .p99_ms <<<"$2")"; }
lrow "login code+PKCE, kakehashi (argon2id default)" "$l_kh"
lrow "login code+PKCE, kakehashi (argon2id cheapest)" "$l_kh_cheap"
lrow "login code+PKCE, oidc-provider (plain compare)" "$l_peer"
printf '{"discovery":[%s,%s],"jwks":[%s,%s],"client_credentials":[%s,%s],"login_kakehashi":%s,"login_kakehashi_cheap_hash":%s,"login_oidc_provider":%s,"idle_rss_mb":[%s,%s]}\n' \
  "${disc[@]}" "${jwks[@]}" "${cc[@]}" "$l_kh" "$l_kh_cheap" "$l_peer" "$kh_rss" "$peer_rss"
