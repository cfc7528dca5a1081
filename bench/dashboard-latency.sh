#!/usr/bin/env bash
# Latency and throughput of the customer dashboard (GET /menu, logged in) against two baselines on the same
# server: the health check (GET /healthz, one database round trip) and the stylesheet (GET /static/app.css, the
# HTTP stack and middleware with no database and no template: this machine's floor). Measured with wrk on a
# release build of `hostwerk serve --demo`. The dashboard is measured twice: as served (a kept page while the
# customer's data is unchanged, see dashboard_cache_mib) and on a second server with the cache off, where every
# request reads the database and renders the template (what a customer's first visit after a change costs).
#
#   bench/dashboard-latency.sh                     200 connections, 2 threads, 5 rounds of 10 s per endpoint
#   BENCH_DURATION=5s BENCH_ROUNDS=1 BENCH_CONNECTIONS=50 bench/dashboard-latency.sh   quick run
#
# Steps: cargo build --release -p hostwerk (into $CARGO_TARGET_DIR, default target/); start two demo servers
# on free loopback ports with temporary data directories (the second with dashboard_cache_mib = 0); log in once
# on each as K1000001 with curl (the server allows 30 logins per minute and address); run `wrk --latency`
# against /healthz, /static/app.css, /menu and the uncached /menu with the session cookie, in turn, for several
# rounds (only one server is under load at a time); print p50, p99 and requests per second of each round, the
# median over the rounds, the ratios of the medians and the dashboard cache's hits and misses from /metrics.
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
server_pids=()
cleanup() {
    local status=$? pid log
    for pid in "${server_pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ $status -ne 0 ]]; then
        for log in "$work"/*/server.log; do
            [[ -s "$log" ]] || continue
            echo "--- $log (last lines) ---" >&2
            tail -n 20 "$log" >&2
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME CONFIG: starts a demo server with the configuration file CONFIG (may be empty) on a free
# loopback port (`--listen 127.0.0.1:0`; the first stdout line names it), logs in as $login and checks that
# /menu is the dashboard; sets NAME_base, NAME_cookie and NAME_pid.
start_server() {
    local name=$1 config=$2 dir="$work/$1"
    mkdir -p "$dir"
    local args=(serve --demo --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --data-dir "$dir/data")
    [[ -n "$config" ]] && args+=(--config "$config")
    "$hw" "${args[@]}" >"$dir/server.out" 2>"$dir/server.log" &
    local pid=$!
    server_pids+=("$pid")
    local base=""
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || die "the $name server exited at start: $(tail -n 5 "$dir/server.log")"
        local first
        first=$(head -n 1 "$dir/server.out" 2>/dev/null || true)
        if [[ "$first" =~ listening\ on\ (http://[^[:space:]]+)/ ]]; then
            base=${BASH_REMATCH[1]}
            break
        fi
        sleep 0.1
    done
    [[ -n "$base" ]] || die "the $name server did not report its address within 30 s"
    local metrics=""
    for _ in $(seq 1 100); do
        if [[ "$(cat "$dir/server.out")" =~ metrics\ on\ (http://[^[:space:]]+)/metrics ]]; then
            metrics=${BASH_REMATCH[1]}
            break
        fi
        sleep 0.1
    done
    [[ -n "$metrics" ]] || die "the $name server did not report its metrics address"

    version=$(awk 'NR == 1 { print $2 }' "$dir/server.out")
    curl -fsS -o /dev/null "$base/healthz" || die "GET /healthz failed ($name)"

    # log in once: GET /login sets hw_csrf and embeds the form token (bound to that cookie) in the form
    local jar="$dir/cookies.txt" csrf browser location session code
    curl -fsS -c "$jar" -b "$jar" -o "$dir/login.html" "$base/login" || die "GET /login failed ($name)"
    browser=$(awk '$6 == "hw_csrf" { print $7 }' "$jar")
    [[ -n "$browser" ]] || die "GET /login set no hw_csrf cookie ($name)"
    csrf=$(grep -o 'name="csrf" value="[0-9a-f]*"' "$dir/login.html" | head -n 1 | sed 's/.*value="//; s/"$//')
    [[ -n "$csrf" ]] || die "GET /login has no form token ($name)"
    location=$(curl -sS -c "$jar" -b "$jar" -o /dev/null -w '%{http_code} %{redirect_url}' \
        --data-urlencode "csrf=$csrf" --data-urlencode "login=$login" --data-urlencode "password=$password" \
        "$base/login") || die "POST /login failed ($name)"
    [[ "$location" == 30?" $base/menu" ]] || die "POST /login did not redirect to /menu (got: $location, $name)"
    session=$(awk '$6 == "hw_session" { print $7 }' "$jar")
    [[ -n "$session" ]] || die "POST /login set no hw_session cookie ($name)"
    local cookie="Cookie: hw_session=$session; hw_csrf=$browser"

    # The dashboard must really be the logged-in page, not a redirect to /login.
    code=$(curl -sS -o "$dir/menu.html" -w '%{http_code}' -H "$cookie" "$base/menu") || die "GET /menu failed ($name)"
    [[ "$code" == 200 ]] || die "GET /menu with the session answered $code ($name)"
    grep -q 'id="contracts"' "$dir/menu.html" || die "GET /menu did not show the contracts table ($name)"
    echo "server $name: hostwerk $version at $base (pid $pid); /menu is $(wc -c <"$dir/menu.html") bytes"
    printf -v "${name}_base" '%s' "$base"
    printf -v "${name}_cookie" '%s' "$cookie"
    printf -v "${name}_pid" '%s' "$pid"
    printf -v "${name}_metrics" '%s' "$metrics"
}

# cache_counts METRICS_BASE: "hits misses" of the dashboard cache from /metrics (its own listen address)
cache_counts() {
    curl -fsS "$1/metrics" | awk '/^hostwerk_dashboard_cache_total\{result="hit"\}/ { h = $2 }
        /^hostwerk_dashboard_cache_total\{result="miss"\}/ { m = $2 } END { print h + 0, m + 0 }'
}

printf 'dashboard_cache_mib = 0\n' >"$work/uncached.toml"
start_server served ""
start_server uncached "$work/uncached.toml"
# shellcheck disable=SC2154 # set by start_server through printf -v
read -r hits0 misses0 <<<"$(cache_counts "$served_metrics")"

# --- wrk
# to_ms VALUE: wrk's "850.12us" / "1.23ms" / "1.05s" / "2.00m" in milliseconds
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; else if (u != "ms") exit 1
        printf "%.2f", n
    }'
}

# run_wrk NAME SERVER PATH [wrk args...]: runs wrk against the server SERVER (served, uncached), checks for
# errors, sets NAME_p50, NAME_p99, NAME_rps
run_wrk() {
    local name=$1 server=$2 path=$3
    shift 3
    local base_var="${server}_base" pid_var="${server}_pid"
    local base=${!base_var} server_pid=${!pid_var}
    local out="$work/wrk-$name.txt"
    echo "wrk: $path ($server), $connections connections, $threads threads, $duration ..." >&2
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

declare -a h50 h99 hrps s50 s99 srps m50 m99 mrps u50 u99 urps
echo
echo "hostwerk $version serve --demo (SQLite), wrk --latency -t$threads -c$connections -d$duration, $rounds rounds, $(nproc) cores"
printf '%-6s %-17s %10s %10s %12s %10s\n' round endpoint "p50 ms" "p99 ms" "req/s" requests
for round in $(seq 1 "$rounds"); do
    run_wrk healthz served /healthz
    run_wrk static served /static/app.css
    run_wrk menu served /menu -H "$served_cookie"
    run_wrk uncached uncached /menu -H "$uncached_cookie"
    # shellcheck disable=SC2154 # set by run_wrk through printf -v
    {
        printf '%-6s %-17s %10s %10s %12s %10s\n' "$round" /healthz "$healthz_p50" "$healthz_p99" "$healthz_rps" "$healthz_requests"
        printf '%-6s %-17s %10s %10s %12s %10s\n' "$round" /static "$static_p50" "$static_p99" "$static_rps" "$static_requests"
        printf '%-6s %-17s %10s %10s %12s %10s\n' "$round" /menu "$menu_p50" "$menu_p99" "$menu_rps" "$menu_requests"
        printf '%-6s %-17s %10s %10s %12s %10s\n' "$round" "/menu (uncached)" "$uncached_p50" "$uncached_p99" \
            "$uncached_rps" "$uncached_requests"
        h50+=("$healthz_p50") h99+=("$healthz_p99") hrps+=("$healthz_rps")
        s50+=("$static_p50") s99+=("$static_p99") srps+=("$static_rps")
        m50+=("$menu_p50") m99+=("$menu_p99") mrps+=("$menu_rps")
        u50+=("$uncached_p50") u99+=("$uncached_p99") urps+=("$uncached_rps")
    }
done
# 3xx counts as success for wrk: make sure the session was still valid, so /menu was the dashboard.
for server in served uncached; do
    base_var="${server}_base" cookie_var="${server}_cookie"
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H "${!cookie_var}" "${!base_var}/menu") ||
        die "GET /menu failed after the run ($server)"
    [[ "$code" == 200 ]] || die "after the run GET /menu answered $code: the session did not last the run ($server)"
done
read -r hits1 misses1 <<<"$(cache_counts "$served_metrics")"
read -r uhits umisses <<<"$(cache_counts "$uncached_metrics")"

mh50=$(median "${h50[@]}") mh99=$(median "${h99[@]}") mhrps=$(median "${hrps[@]}")
ms50=$(median "${s50[@]}") ms99=$(median "${s99[@]}") msrps=$(median "${srps[@]}")
mm50=$(median "${m50[@]}") mm99=$(median "${m99[@]}") mmrps=$(median "${mrps[@]}")
mu50=$(median "${u50[@]}") mu99=$(median "${u99[@]}") murps=$(median "${urps[@]}")
echo
echo "median of $rounds rounds"
printf '%-17s %10s %10s %12s\n' endpoint "p50 ms" "p99 ms" "req/s"
printf '%-17s %10s %10s %12s\n' /healthz "$mh50" "$mh99" "$mhrps"
printf '%-17s %10s %10s %12s\n' /static "$ms50" "$ms99" "$msrps"
printf '%-17s %10s %10s %12s\n' /menu "$mm50" "$mm99" "$mmrps"
printf '%-17s %10s %10s %12s\n' "/menu (uncached)" "$mu50" "$mu99" "$murps"
echo "dashboard cache during the runs: $((hits1 - hits0)) hits, $((misses1 - misses0)) misses (uncached server: $uhits hits)"
printf 'dashboard/healthz: p50 x%s, p99 x%s, throughput x%s (healthz req/s / menu req/s)\n' \
    "$(ratio "$mm50" "$mh50")" "$(ratio "$mm99" "$mh99")" "$(ratio "$mhrps" "$mmrps")"
printf 'dashboard/static:  p50 x%s, p99 x%s, throughput x%s (static req/s / menu req/s)\n' \
    "$(ratio "$mm50" "$ms50")" "$(ratio "$mm99" "$ms99")" "$(ratio "$msrps" "$mmrps")"
printf 'uncached/served dashboard: p50 x%s, p99 x%s, throughput x%s (served req/s / uncached req/s)\n' \
    "$(ratio "$mu50" "$mm50")" "$(ratio "$mu99" "$mm99")" "$(ratio "$mmrps" "$murps")"
sorted99=$(printf '%s\n' "${m99[@]}" | sort -g | tr '\n' ' ')
echo "dashboard p99 per round, sorted: ${sorted99% } ms (goal: p99 < 20 ms)"
sorted99=$(printf '%s\n' "${u99[@]}" | sort -g | tr '\n' ' ')
echo "uncached dashboard p99 per round, sorted: ${sorted99% } ms"
