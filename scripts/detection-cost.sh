#!/bin/sh
# The detection step's cost in instructions, before and after the card, device and merchant
# histories (issue 16: evaluation throughput within 10% of before), counted by callgrind so
# a shared, noisy machine does not blur it. Usage:
#   scripts/detection-cost.sh [BEFORE_RULES_DIR]
# BEFORE_RULES_DIR: the "before" variant's rules (default: this checkout's Rules/).
# Needs valgrind (Debian: apt-get install valgrind). Prints each variant's instructions
# with the shared setup subtracted, and their ratio (before / after: the throughput ratio
# if time followed instructions; it does not exactly, see docs/detection.md).
set -eu
cd "$(dirname "$0")/../Benchmarks"
command -v valgrind >/dev/null || { echo "detection-cost: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
swift build -c release --product DetectionCost >&2
if [ $# -gt 0 ]; then VIGIL_BEFORE_RULES="$1"; export VIGIL_BEFORE_RULES; fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# valgrind gives up on the debug information Swift writes: count a stripped copy.
bin="$out/DetectionCost"
cp "$(swift build -c release --show-bin-path)/DetectionCost" "$bin"
strip "$bin"
count() {
    valgrind --tool=callgrind --callgrind-out-file="$out/$1.out" "$bin" "$1" >/dev/null 2>"$out/$1.err" \
        || { cat "$out/$1.err" >&2; exit 1; }
    sed -n 's/^summary: *//p' "$out/$1.out"
}
setup=$(count setup)
before=$(count before)
after=$(count after)
awk -v s="$setup" -v b="$before" -v a="$after" 'BEGIN {
    printf "instructions: setup %d; before %d; after %d (setup subtracted)\n", s, b - s, a - s
    printf "before / after: %.3f\n", (b - s) / (a - s)
}'
