#!/usr/bin/env bash
# Latency and throughput of the customer dashboard (GET /menu, logged in) against two baselines on the same
# server: the health check (GET /healthz, one database round trip) and the stylesheet (GET /static/app.css, the
# HTTP stack and middleware with no database and no template: this machine's floor). Measured with wrk on a
# release build of `hostwerk serve --demo`.
#
#   bench/dashboard-latency.sh                     200 connections, 2 threads, 5 rounds of 10 s per endpoint
#   BENCH_DURATION=5s BENCH_ROUNDS=1 BENCH_CONNECTIONS=50 bench/dashboard-latency.sh   quick run
#
# Steps: cargo build --release -p hostwerk (into $CARGO_TARGET_DIR, default target/); start the demo
# server on a free loopback port with a temporary data directory; log in once as K1000001 with curl
# (the server allows 30 logins per minute and address); run `wrk --latency` against /healthz, /static/app.css
# and /menu with the session cookie, in turn, for several rounds; print p50, p99 and requests per second of
# each round and the median over the rounds, and the ratios of the medians.
# wrk and the server share this machine's cores: compare figures from the same machine only.
# Needs: wrk, curl (Debian: apt-get install wrk curl), cargo. Exits non-zero if anything fails.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$top/target}
duration=${BENCH_DURATION:-10s}
rounds=${BENCH_ROUNDS:-5}
connections=${BENCH_CONNECTIONS:-200}
threads=${BENCH_THREADS:-2}
login=K1000001
password=demo-password-1

die() {
    echo "dashboard-latency: $*" >&2
    exit 1
}

for tool in wrk curl cargo awk; do
    command -v "$tool" >/dev/null || die "missing $tool (Debian: apt-get install wrk curl)"
done

echo "building release (CARGO_TARGET_DIR=$target_dir) ..."
(cd "$top" && CARGO_TARGET_DIR="$target_dir" cargo build --release -p hostwerk --quiet)
hw="$target_dir/release/hostwerk"
[[ -x "$hw" ]] || die "no binary at $hw after the build"

work=$(mktemp -d "${TMPDIR:-/tmp}/hostwerk-dashboard-bench.XXXXXX")
server_pid=""
cleanup() {
    local status=$?
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ $status -ne 0 && -s "$work/server.log" ]]; then
        echo "--- server log (last lines) ---" >&2
        tail -n 20 "$work/server.log" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- start the server: `--listen 127.0.0.1:0` takes a free port, the first stdout line names it
"$hw" serve --demo --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
base=""
for _ in $(seq 1 300); do
    kill -0 "$server_pid" 2>/dev/null || die "the server exited at start"
    first=$(head -n 1 "$work/server.out" 2>/dev/null || true)
    if [[ "$first" =~ listening\ on\ (http://[^[:space:]]+)/ ]]; then
        base=${BASH_REMATCH[1]}
        break
    fi
    sleep 0.1
done
[[ -n "$base" ]] || die "the server did not report its address within 30 s"
version=$(awk 'NR == 1 { print $2 }' "$work/server.out")
echo "server: hostwerk $version at $base (pid $server_pid)"

curl -fsS -o /dev/null "$base/healthz" || die "GET /healthz failed"

# --- log in once: GET /login sets hw_csrf and embeds the same token in the form
jar="$work/cookies.txt"
curl -fsS -c "$jar" -b "$jar" -o "$work/login.html" "$base/login" || die "GET /login failed"
csrf=$(awk '$6 == "hw_csrf" { print $7 }' "$jar")
[[ -n "$csrf" ]] || die "GET /login set no hw_csrf cookie"
location=$(curl -sS -c "$jar" -b "$jar" -o /dev/null -w '%{http_code} %{redirect_url}' \
    --data-urlencode "csrf=$csrf" --data-urlencode "login=$login" --data-urlencode "password=$password" \
    "$base/login") || die "POST /login failed"
[[ "$location" == 30?" $base/menu" ]] || die "POST /login did not redirect to /menu (got: $location)"
session=$(awk '$6 == "hw_session" { print $7 }' "$jar")
[[ -n "$session" ]] || die "POST /login set no hw_session cookie"
cookie="Cookie: hw_session=$session; hw_csrf=$csrf"

# The dashboard must really be the logged-in page, not a redirect to /login.
code=$(curl -sS -o "$work/menu.html" -w '%{http_code}' -H "$cookie" "$base/menu") || die "GET /menu failed"
[[ "$code" == 200 ]] || die "GET /menu with the session answered $code"
grep -q 'id="contracts"' "$work/menu.html" || die "GET /menu did not show the contracts table"
echo "logged in as $login; /menu is $(wc -c <"$work/menu.html") bytes, /healthz $(curl -fsS "$base/healthz" | wc -c) bytes"

# --- wrk
# to_ms VALUE: wrk's "850.12us" / "1.23ms" / "1.05s" / "2.00m" in milliseconds
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; else if (u != "ms") exit 1
        printf "%.2f", n
    }'
}

# run_wrk NAME PATH [wrk args...]: runs wrk, checks for errors, sets NAME_p50, NAME_p99, NAME_rps
run_wrk() {
    local name=$1 path=$2
    shift 2
    local out="$work/wrk-$name.txt"
    echo "wrk: $path, $connections connections, $threads threads, $duration ..." >&2
    wrk --latency -t "$threads" -c "$connections" -d "$duration" --timeout 10s "$@" "$base$path" >"$out" 2>&1 ||
        { cat "$out" >&2; die "wrk against $path failed"; }
    kill -0 "$server_pid" 2>/dev/null || die "the server died during the $path run"
    local p50 p99 rps non2xx
    p50=$(awk '$1 == "50%" { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
    [[ -n "$p50" && -n "$p99" && -n "$rps" ]] || { cat "$out" >&2; die "cannot parse wrk's output for $path"; }
    if [[ -n "$non2xx" ]]; then
        cat "$out" >&2
        die "$path answered $non2xx requests with a non-2xx/3xx status"
    fi
    if grep -q '^  Socket errors' "$out"; then
        echo "  note ($path): $(grep '^  Socket errors' "$out" | sed 's/^ *//')"
    fi
    local p50_ms p99_ms
    p50_ms=$(to_ms "$p50") || die "unknown latency unit in $p50"
    p99_ms=$(to_ms "$p99") || die "unknown latency unit in $p99"
    printf -v "${name}_p50" '%s' "$p50_ms"
    printf -v "${name}_p99" '%s' "$p99_ms"
    printf -v "${name}_rps" '%s' "$rps"
    printf -v "${name}_requests" '%s' "$(awk '/requests in/ { print $1 }' "$out")"
}

# Rounds take the three endpoints in turn so that all see the same background noise; the summary is the median
# of the rounds (this machine's neighbours make any single run's tail swing by a factor of two).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }

declare -a h50 h99 hrps s50 s99 srps m50 m99 mrps
echo
echo "hostwerk $version serve --demo (SQLite), wrk --latency -t$threads -c$connections -d$duration, $rounds rounds, $(nproc) cores"
printf '%-6s %-10s %10s %10s %12s %10s\n' round endpoint "p50 ms" "p99 ms" "req/s" requests
for round in $(seq 1 "$rounds"); do
    run_wrk healthz /healthz
    run_wrk static /static/app.css
    run_wrk menu /menu -H "$cookie"
    # shellcheck disable=SC2154 # set by run_wrk through printf -v
    {
        printf '%-6s %-10s %10s %10s %12s %10s\n' "$round" /healthz "$healthz_p50" "$healthz_p99" "$healthz_rps" "$healthz_requests"
        printf '%-6s %-10s %10s %10s %12s %10s\n' "$round" /static "$static_p50" "$static_p99" "$static_rps" "$static_requests"
        printf '%-6s %-10s %10s %10s %12s %10s\n' "$round" /menu "$menu_p50" "$menu_p99" "$menu_rps" "$menu_requests"
        h50+=("$healthz_p50") h99+=("$healthz_p99") hrps+=("$healthz_rps")
        s50+=("$static_p50") s99+=("$static_p99") srps+=("$static_rps")
        m50+=("$menu_p50") m99+=("$menu_p99") mrps+=("$menu_rps")
    }
done
# 3xx counts as success for wrk: make sure the session was still valid, so /menu was the dashboard.
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "$cookie" "$base/menu") || die "GET /menu failed after the run"
[[ "$code" == 200 ]] || die "after the run GET /menu answered $code: the session did not last the run"

mh50=$(median "${h50[@]}") mh99=$(median "${h99[@]}") mhrps=$(median "${hrps[@]}")
ms50=$(median "${s50[@]}") ms99=$(median "${s99[@]}") msrps=$(median "${srps[@]}")
mm50=$(median "${m50[@]}") mm99=$(median "${m99[@]}") mmrps=$(median "${mrps[@]}")
echo
echo "median of $rounds rounds"
printf '%-10s %10s %10s %12s\n' endpoint "p50 ms" "p99 ms" "req/s"
printf '%-10s %10s %10s %12s\n' /healthz "$mh50" "$mh99" "$mhrps"
printf '%-10s %10s %10s %12s\n' /static "$ms50" "$ms99" "$msrps"
printf '%-10s %10s %10s %12s\n' /menu "$mm50" "$mm99" "$mmrps"
printf 'dashboard/healthz: p50 x%s, p99 x%s, throughput x%s (healthz req/s / menu req/s)\n' \
    "$(ratio "$mm50" "$mh50")" "$(ratio "$mm99" "$mh99")" "$(ratio "$mhrps" "$mmrps")"
printf 'dashboard/static:  p50 x%s, p99 x%s, throughput x%s (static req/s / menu req/s)\n' \
    "$(ratio "$mm50" "$ms50")" "$(ratio "$mm99" "$ms99")" "$(ratio "$msrps" "$mmrps")"
sorted99=$(printf '%s\n' "${m99[@]}" | sort -g | tr '\n' ' ')
echo "dashboard p99 per round, sorted: ${sorted99% } ms (goal: p99 < 20 ms)"
