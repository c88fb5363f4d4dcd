# Shared by the dataplane tests that need no network namespace
# (update_load_test.sh, stalled_secondary_test.sh), sourced after KGW is set.
# The checks and helpers every test shares (netns_require_root_and_hugepages,
# cli) come from lib.sh.
# shellcheck source=tests/netns/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# standalone_init TAG: P (the DPDK file prefix, TAG + pid), WORK (a scratch
# directory), PIDS (processes to stop) and the EXIT trap that cleans up.
standalone_init() {
  P=$1$$
  WORK=$(mktemp -d)
  PIDS=()
  trap standalone_cleanup EXIT
}

# Stops what the test started (continuing any it stopped), then removes the
# scratch directory and the DPDK runtime files of prefix P.
standalone_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
  # A process that ignores TERM (or waits on a stalled peer) is killed after 10 s.
  local end=$((SECONDS + 10))
  for p in "${PIDS[@]}"; do
    while kill -0 "$p" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  rm -rf "$WORK" "/var/run/dpdk/$P"
  rm -f /dev/hugepages/"$P"map_* 2>/dev/null
}

fail() {
  echo "FAIL: $*"
  echo "--- dataplane log"; tail -n 20 "$WORK/dp.log"
  echo "--- control log"; tail -n 20 "$WORK/control.log" 2>/dev/null
  exit 1
}
