#!/usr/bin/env bash
# The house's layers, bottom to top: pipelines/ < dataplane/ < control/ < cmd/.
# An #include may point down or sideways, never up; production code never
# includes tests/ or perf/. Prints every include that breaks this and fails.
#   check_layers.sh [SOURCE_ROOT]
set -uo pipefail
ROOT=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$ROOT" || exit 2

rank() {
  case "$1" in
    pipelines) echo 0 ;;
    dataplane) echo 1 ;;
    control) echo 2 ;;
    cmd) echo 3 ;;
    tests|perf) echo 9 ;;
    *) echo -1 ;;
  esac
}

bad=0
checked=0
while IFS=: read -r file line text; do
  target=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/' <<< "$text")
  from=${file%%/*}
  to=${target%%/*}
  [ "$(rank "$to")" -lt 0 ] && continue  # a header beside the file, or a system one in quotes
  checked=$((checked + 1))
  if [ "$(rank "$to")" -gt "$(rank "$from")" ]; then
    echo "$file:$line: includes \"$target\": $from/ may not include from $to/ (layers: pipelines < dataplane < control < cmd)"
    bad=$((bad + 1))
  fi
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' pipelines dataplane control cmd \
           --include='*.h' --include='*.cc' --include='*.c')

if [ "$checked" -eq 0 ]; then
  echo "no includes found under $ROOT: wrong source root?"
  exit 2
fi
echo "$checked includes checked, $bad pointing up"
[ "$bad" -eq 0 ]
