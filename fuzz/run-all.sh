#!/usr/bin/env bash
# Builds every cargo-fuzz target once, then runs each for FUZZ_SECONDS (default 20).
# Exits non-zero if any target finds a crash, panic, timeout or out-of-memory input;
# the input is left in fuzz/artifacts/<target>/ (reproduce: cargo +nightly fuzz run <target> <file>).
#
#   fuzz/run-all.sh                      20 s per target
#   FUZZ_SECONDS=120 fuzz/run-all.sh     longer
#   FUZZ_SANITIZER=none fuzz/run-all.sh  without AddressSanitizer (faster, finds less)
#
# Each target starts from the committed seeds in fuzz/seeds/<target>/ plus the working corpus in
# fuzz/corpus/<target>/ (git-ignored, grows from run to run). Builds go to fuzz/target/ (or $FUZZ_TARGET_DIR).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
seconds=${FUZZ_SECONDS:-20}
sanitizer=${FUZZ_SANITIZER:-address}
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$here/target}"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "installing the nightly toolchain (cargo-fuzz needs it)"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# -a: debug assertions and overflow checks, so arithmetic on length fields that overflows is a finding.
flags=(-O -a --sanitizer "$sanitizer")
echo "building fuzz targets (${flags[*]})"
cargo +nightly fuzz build "${flags[@]}"

mapfile -t targets < <(cargo +nightly fuzz list)
failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    dirs=("corpus/$t")
    [ -d "seeds/$t" ] && dirs+=("seeds/$t")
    echo "=== fuzzing $t for ${seconds}s"
    # -rss_limit_mb / -malloc_limit_mb: a decoder that allocates from an unchecked length field fails here.
    if ! cargo +nightly fuzz run "${flags[@]}" "$t" "${dirs[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
        -print_final_stats=1 2>"artifacts/$t.log"; then
        failed+=("$t")
        echo "!!! $t failed; last lines of fuzz/artifacts/$t.log:"
        tail -n 40 "artifacts/$t.log"
    else
        grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "artifacts/$t.log" | tr '\n' ' '
        echo
    fi
done

if ((${#failed[@]})); then
    echo "fuzz targets with findings: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "all ${#targets[@]} fuzz targets ran ${seconds}s each without findings"
