#!/usr/bin/env bash
# Storage cost of the tariffs' backup retention: a shared-webserver-like corpus (bench/backup/make_corpus.py)
# changes every night for N simulated nights (default 30) and is backed up once a night with that night's
# snapshot time (`hostwerk backup run --time`); restic does the same side by side (`restic backup --time`).
# Then each tariff's retention runs on a copy of the repository: forget with the tariff's policy, then prune.
#
#   bench/backup-retention.sh                          scale 0.1 (~130 MB corpus), 30 nights
#   BENCH_SCALE=0.05 BENCH_NIGHTS=30 bench/backup-retention.sh
#
# Reports, per policy: snapshots kept, repository size, and ratios to one full copy of the corpus (its
# size on disk after the last night) and to restic's repository under the same policy.
# Needs: restic (apt-get install restic), python3, a release build (built here).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
scale=${BENCH_SCALE:-0.1}
nights=${BENCH_NIGHTS:-30}
work=${BENCH_DIR:-/tmp/hostwerk-retention}
target_dir=${CARGO_TARGET_DIR:-$top/target}

for tool in restic python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install restic)" >&2; exit 2; }
done

(cd "$top" && cargo build --release -p hostwerk --quiet)
hw="$target_dir/release/hostwerk"

rm -rf "$work"
mkdir -p "$work"
corpus="$work/www"
echo "building corpus (scale $scale) in $corpus ..."
python3 "$here/backup/make_corpus.py" create "$corpus" "$scale"

export HOSTWERK_REPO_PASSWORD=bench RESTIC_PASSWORD=bench RESTIC_CACHE_DIR="$work/restic-cache"
"$hw" backup --repo "$work/repo-hostwerk" init >/dev/null
restic init --repo "$work/repo-restic" >/dev/null 2>&1

# The nights start on 15 October so that the 30 nights span a month boundary (monthly buckets matter).
start=$(date -u -d "2026-10-15 21:00:00" +%s)
for ((n = 1; n <= nights; n++)); do
    ((n == 1)) || python3 "$here/backup/make_corpus.py" change "$corpus" "$scale" "$n"
    t=$(date -u -d "@$((start + (n - 1) * 86400))" "+%Y-%m-%d %H:%M:%S")
    "$hw" backup --repo "$work/repo-hostwerk" run --host web001 --tag contract:1 --time "$t" "$corpus" >/dev/null
    restic --repo "$work/repo-restic" backup --quiet --host web001 --tag contract:1 --time "$t" "$corpus" >/dev/null
    printf 'night %2d (%s): corpus %s, hostwerk %s, restic %s\n' "$n" "$t" \
        "$(du -sh "$corpus" | cut -f1)" "$(du -sh "$work/repo-hostwerk" | cut -f1)" "$(du -sh "$work/repo-restic" | cut -f1)"
done

full=$(du -sb "$corpus" | cut -f1)
files=$(find "$corpus" -type f | wc -l)
results="$work/results.tsv"
printf 'policy\tsnapshots\thostwerk_bytes\trestic_bytes\n' >"$results"
row() {
    local name=$1 hwrepo=$2 rrepo=$3
    local snaps
    snaps=$("$hw" backup --repo "$hwrepo" --json snapshots | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
    printf '%s\t%s\t%s\t%s\n' "$name" "$snaps" "$(du -sb "$hwrepo" | cut -f1)" "$(du -sb "$rrepo" | cut -f1)" >>"$results"
}
row "none (all $nights nights)" "$work/repo-hostwerk" "$work/repo-restic"

# policy NAME DAILY MONTHLY: retention of a tariff on copies of both repositories.
policy() {
    local name=$1 daily=$2 monthly=$3
    local h="$work/repo-hostwerk-$daily-$monthly" r="$work/repo-restic-$daily-$monthly"
    cp -a "$work/repo-hostwerk" "$h"
    cp -a "$work/repo-restic" "$r"
    "$hw" backup --repo "$h" forget --keep-daily "$daily" --keep-monthly "$monthly" >/dev/null
    "$hw" backup --repo "$h" prune >/dev/null
    restic --repo "$r" forget --quiet --keep-daily "$daily" --keep-monthly "$monthly" --prune >/dev/null
    row "$name ($daily daily + $monthly monthly)" "$h" "$r"
}
policy SharedHosting 14 3
policy ManagedServer 30 12

echo
echo "one full copy of the corpus after the last night: $(numfmt --to=iec "$full") in $files files"
python3 - "$results" "$full" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
full = int(sys.argv[2])
mib = lambda b: f"{int(b) / 2**20:8.1f} MiB"
print(f"| retention | snapshots | hostwerk repo | × full copy | restic repo | hostwerk/restic |")
print(f"|---|---:|---:|---:|---:|---:|")
for name, snaps, h, r in rows:
    print(f"| {name} | {snaps} | {mib(h)} | {int(h) / full:.2f} | {mib(r)} | {int(h) / int(r):.2f} |")
PY
