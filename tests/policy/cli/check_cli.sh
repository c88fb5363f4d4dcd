#!/usr/bin/env bash
# check_cli.sh KGW DIR: kgw policy-check's output and exit codes (DIR is
# tests/policy): a verdict exits 0 with allow/deny first, invalid manifests
# exit 1 with file:line, failing cases exit 1 with each mismatch and the
# count line, bad usage exits 2.
set -uo pipefail
kgw=$1 dir=$2
fail=0
expect() {  # expect WANT_RC PATTERN -- ARGS...: the exit code, and a line matching PATTERN
  local want=$1 pattern=$2
  shift 3
  local out rc
  out=$("$kgw" policy-check "$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: policy-check $* -> exit $rc (want $want), output:"
    echo "$out"
    echo "  (wanted a line matching: $pattern)"
    fail=1
  fi
}
m=$dir/default-deny-ingress
expect 0 '^deny$' -- -m "$m" --from y/a --to x/a --port 80/TCP
expect 0 '^  ingress: x/a isolated by x/deny-ingress; no ingress rule allows TCP 80' -- -m "$m" --from y/a --to x/a --port 80
expect 0 '^allow$' -- -m "$m" --from x/a --to y/b --port 81/udp
expect 0 '^  ingress: no policy isolates y/b for ingress' -- -m "$m" --from x/a --to y/b --port 81/UDP
expect 0 '^allow$' -- -m "$m" --from 203.0.113.7 --to 198.18.2.1 --port 80/SCTP
expect 0 '^deny$' -- -m "$m" --from "2001:db8:2::1" --to "2001:db8:1::3" --port 80/SCTP
expect 1 'invalid\.yaml:9: x/bad: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.except\[0\]: 198\.19\.0\.0/24 is not inside cidr' \
  -- -m "$dir/cli/invalid.yaml" --from 198.18.0.1 --to 198.18.0.2 --port 80
expect 1 'invalid\.yaml:11: .*endPort 80 is less than port 81' -- -m "$dir/cli/invalid.yaml" --cases "$dir/cli/failing.cases.yaml"
expect 1 '^2 passed, 3 failed$' -- -m "$m" --cases "$dir/cli/failing.cases.yaml"
expect 1 'failing\.cases\.yaml:5: FAIL y/a -> x/b 80/TCP: expected allow, got deny' -- -m "$m" --cases "$dir/cli/failing.cases.yaml"
expect 1 'failing\.cases\.yaml:6: FAIL x/a -> z/c 81/UDP: expected deny, got allow' -- -m "$m" --cases "$dir/cli/failing.cases.yaml"
expect 1 'cases\[4\]: no Pod q/a' -- -m "$m" --cases "$dir/cli/failing.cases.yaml"
expect 2 'no Pod x/nope' -- -m "$m" --from x/nope --to x/a --port 80
expect 2 'bad protocol "ICMP"' -- -m "$m" --from x/a --to x/b --port 80/ICMP
expect 2 'bad port "0/TCP"' -- -m "$m" --from x/a --to x/b --port 0/TCP
expect 2 'give --from, --to and --port' -- -m "$m" --from x/a
expect 2 'mutually exclusive' -- -m "$m" --from x/a --cases x.yaml
expect 2 '--manifests is required' -- --from x/a --to x/b --port 80
expect 0 '^Usage: kgw policy-check' -- --help
exit $fail
