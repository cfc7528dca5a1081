#!/usr/bin/env bash
# Compares hostwerk backup with restic and borg on a shared-webserver-like corpus.
#
#   bench/backup-vs-peers.sh            full run: ~1.3 GB, ~42,000 files (scale 1.0)
#   BENCH_SCALE=0.05 bench/backup-vs-peers.sh   quick run
#
# Phases, each for all three tools in turn: first backup, backup after a simulated night of change,
# backup without change, full restore of the latest snapshot. Reports wall time, peak RSS
# (/usr/bin/time -v) and repository size, and hostwerk/restic ratios.
# Needs: restic, borgbackup, /usr/bin/time (Debian: apt-get install restic borgbackup time),
# python3, and a release build (built here with CARGO_TARGET_DIR, default target/).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
scale=${BENCH_SCALE:-1.0}
work=${BENCH_DIR:-/tmp/hostwerk-bench}
target_dir=${CARGO_TARGET_DIR:-$top/target}

for tool in restic borg /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install restic borgbackup time)" >&2; exit 2; }
done

(cd "$top" && cargo build --release -p hostwerk --quiet)
hw="$target_dir/release/hostwerk"

rm -rf "$work"
mkdir -p "$work"
corpus="$work/www"
echo "building corpus (scale $scale) in $corpus ..."
python3 "$here/backup/make_corpus.py" create "$corpus" "$scale"
echo "corpus: $(du -sh "$corpus" | cut -f1), $(find "$corpus" -type f | wc -l) files"

export HOSTWERK_REPO_PASSWORD=bench RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_BASE_DIR="$work/borg-home" RESTIC_CACHE_DIR="$work/restic-cache" XDG_CACHE_HOME="$work/cache"

"$hw" backup --repo "$work/repo-hostwerk" init >/dev/null
restic init --repo "$work/repo-restic" >/dev/null 2>&1
borg init --encryption=repokey-blake2 "$work/repo-borg" >/dev/null 2>&1

results="$work/results.tsv"
: >"$results"

drop_caches() {
    sync
    echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
}

# measure PHASE TOOL cmd... : runs with /usr/bin/time -v, records wall seconds and peak RSS (KiB).
measure() {
    local phase=$1 tool=$2
    shift 2
    drop_caches
    local log="$work/time-$phase-$tool.log"
    if ! /usr/bin/time -v "$@" >"$work/out-$phase-$tool.log" 2>"$log"; then
        echo "$tool $phase failed, see $log" >&2
        tail -5 "$log" >&2
        exit 1
    fi
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    local size
    size=$(du -sb "$work/repo-$tool" | cut -f1)
    printf '%s\t%s\t%s\t%s\t%s\n' "$phase" "$tool" "$wall" "$rss" "$size" >>"$results"
    printf '%-10s %-9s %8.2fs %8d KiB RSS  repo %s\n' "$phase" "$tool" "$wall" "$rss" "$(numfmt --to=iec "$size")"
}

backup_all() {
    local phase=$1
    measure "$phase" hostwerk "$hw" backup --repo "$work/repo-hostwerk" run "$corpus"
    measure "$phase" restic restic --repo "$work/repo-restic" backup "$corpus"
    measure "$phase" borg borg create --compression zstd,3 "$work/repo-borg::$phase" "$corpus"
}

backup_all first
python3 "$here/backup/make_corpus.py" change "$corpus" "$scale"
backup_all changed
backup_all nochange

for tool in hostwerk restic borg; do rm -rf "$work/restore-$tool"; mkdir -p "$work/restore-$tool"; done
measure restore hostwerk "$hw" backup --repo "$work/repo-hostwerk" restore latest --target "$work/restore-hostwerk"
measure restore restic restic --repo "$work/repo-restic" restore latest --target "$work/restore-restic"
measure restore borg sh -c "cd '$work/restore-borg' && borg extract '$work/repo-borg::nochange'"

# Verify the restores.
for tool in hostwerk restic borg; do
    if ! diff -r "$corpus" "$work/restore-$tool${corpus}" >/dev/null; then
        echo "WARNING: $tool restore differs from the corpus" >&2
    fi
done

echo
echo "ratios hostwerk / restic (goal: first <= 0.5, nochange <= 0.33, restore <= 0.5, repo <= 1.0, rss <= 1.0)"
python3 - "$results" <<'PY'
import sys, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
d = collections.defaultdict(dict)
for phase, tool, wall, rss, size in rows:
    d[phase][tool] = (float(wall), int(rss), int(size))
print(f"{'phase':<10} {'tool':<9} {'wall s':>8} {'RSS MiB':>8} {'repo MiB':>9}   {'wall/restic':>11} {'RSS/restic':>10} {'repo/restic':>11}")
for phase in ["first", "changed", "nochange", "restore"]:
    r = d[phase].get("restic")
    for tool in ["hostwerk", "restic", "borg"]:
        if tool not in d[phase]:
            continue
        w, m, s = d[phase][tool]
        ratios = f"{w / r[0]:>11.2f} {m / r[1]:>10.2f} {s / r[2]:>11.2f}" if r else ""
        print(f"{phase:<10} {tool:<9} {w:>8.2f} {m / 1024:>8.1f} {s / 2**20:>9.1f}   {ratios}")
PY
