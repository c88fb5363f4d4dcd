#!/usr/bin/env bash
# run_fuzzer.sh BINARY SEED_DIR SECONDS [RSS_MB]: a bounded libFuzzer run that
# starts from the committed seeds and writes new inputs to a temporary corpus
# (RSS limit 2048 MB unless given).
set -uo pipefail
bin=$1 seeds=$2 secs=$3 rss=${4:-2048}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb="$rss" -print_final_stats=1 \
  -artifact_prefix="$work/" "$work" "$seeds" > "$work/log" 2>&1
status=$?
if [ "$status" -eq 0 ]; then
  grep -E "INITED|DONE|^Done|stat::(number_of_executed_units|new_units_added|peak_rss)" "$work/log"
  exit 0
fi
tail -n 80 "$work/log"
for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
  [ -e "$f" ] && { echo "failing input $f:"; od -An -tx1 "$f" | head -20; }
done
# libFuzzer exits 77 on a crash, which meson reads as "skipped": a finding is a failure.
echo "libFuzzer exited with status $status"
exit 1
