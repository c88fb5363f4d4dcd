#!/usr/bin/env bash
# One-time (and idempotent) set-up of a Debian 12 machine for kgw, as root:
# apt packages, 2 MB hugepages with a hugetlbfs mount, meson configure, build.
# Every step checks first and does nothing when already done.
#
#   scripts/setup.sh            set up and build build/kgw
#   KGW_BUILD_DIR=dir ...       build somewhere else
set -euo pipefail
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
case "${1:-}" in
  "") ;;
  -h|--help) usage; exit 0 ;;
  *) echo "$0: unknown argument $1 (settings are environment variables, below)" >&2; usage >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${KGW_BUILD_DIR:-$ROOT/build}
HUGEPAGES=${KGW_HUGEPAGES:-512}

PACKAGES=(
  meson ninja-build pkg-config g++ clang libclang-rt-14-dev
  dpdk dpdk-dev libdpdk-dev libhyperscan-dev libfmt-dev libyaml-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libpcap-dev libhttp-parser-dev
  python3 python3-scapy iproute2 iputils-ping curl openssl procps kmod ethtool valgrind iptables lua5.4 hping3 dnsutils
  # netns_https_ops: testssl.sh scans the HTTPS listener (offline, in a
  # namespace; its command is `testssl`), wrk loads it over HTTPS while a TLS
  # Secret is rotated.
  testssl.sh wrk
  # perf/tls/run: nginx 1.22 (same OpenSSL) as the baseline of the TLS
  # benchmark, run only inside the benchmark's namespace with its own config;
  # the package's own service is kept from starting and disabled
  # (keep_nginx_service_off).
  nginx
  # netns_websocket: a WebSocket echo server and client through the proxy.
  python3-websockets
  # netns_dns_diff, netns_dns_resolver, perf/dns/run: Knot DNS and NSD (the
  # authoritative servers kgw's DNS is compared with), unbound (a resolver
  # in front of it), dnsperf, dig. Run only as the tests start them, inside
  # their namespaces: their packages' services are kept off
  # (keep_dns_services_off).
  knot nsd unbound dnsperf bind9-dnsutils
)

log() { echo "[setup] $*"; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/setup.sh must run as root (apt, hugepages, network namespaces)" >&2
    exit 1
  fi
}

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "packages: all present"
    return
  fi
  log "packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # No package's service may start while it installs (nginx would listen on
  # port 80 of the root namespace): a policy-rc.d that refuses every start,
  # unless the machine already has one (a container's does the same).
  local policy_made=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_made=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    [ $policy_made = 1 ] && rm -f /usr/sbin/policy-rc.d
    exit 1
  }
  [ $policy_made = 1 ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

# nginx runs only as perf/tls/run starts it, inside a namespace: the package's
# service is stopped if it runs and disabled, every time (idempotent).
keep_nginx_service_off() {
  command -v nginx > /dev/null || return 0
  if [ -d /run/systemd/system ]; then
    systemctl disable --now nginx.service > /dev/null 2>&1 || true
  else
    [ -x /etc/init.d/nginx ] && /etc/init.d/nginx stop > /dev/null 2>&1
    update-rc.d nginx disable > /dev/null 2>&1 || true
  fi
  if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2> /dev/null; then
    kill "$(cat /run/nginx.pid)" 2> /dev/null || true
  fi
  log "nginx: installed, its service off (perf/tls/run starts its own)"
}

# The DNS servers' own services would listen on port 53 of the root
# namespace: stopped if they run and disabled, every time (idempotent).
keep_dns_services_off() {
  local s pidfile
  for s in knot nsd unbound; do
    command -v "${s/knot/knotd}" > /dev/null || continue
    if [ -d /run/systemd/system ]; then
      systemctl disable --now "$s.service" > /dev/null 2>&1 || true
    else
      [ -x "/etc/init.d/$s" ] && "/etc/init.d/$s" stop > /dev/null 2>&1
      update-rc.d "$s" disable > /dev/null 2>&1 || true
    fi
  done
  for pidfile in /run/knot/knot.pid /run/nsd/nsd.pid /run/unbound.pid; do
    if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2> /dev/null; then
      kill "$(cat "$pidfile")" 2> /dev/null || true
    fi
  done
  log "knot, nsd, unbound: installed, their services off (the DNS tests start their own)"
}

setup_hugepages() {
  local nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
  if [ -w "$nr" ] && [ "$(cat "$nr")" -lt "$HUGEPAGES" ]; then
    echo "$HUGEPAGES" > "$nr" || true
  fi
  log "hugepages: $(cat "$nr" 2>/dev/null || echo 0) x 2 MB"
  mkdir -p /dev/hugepages
  if ! grep -qs " /dev/hugepages hugetlbfs " /proc/mounts; then
    mount -t hugetlbfs nodev /dev/hugepages
    log "hugetlbfs mounted on /dev/hugepages"
  fi
}

build() {
  local opts=()
  if [ "${CI:-}" = "true" ]; then opts+=(-Dwerror=true); fi
  if [ ! -f "$BUILD/build.ninja" ]; then
    log "meson setup $BUILD"
    meson setup "$BUILD" "$ROOT" "${opts[@]}" >/dev/null
  fi
  log "building $BUILD"
  if ! ninja -C "$BUILD" -j "$(nproc)" > "$BUILD/ninja.log" 2>&1; then
    tail -n 60 "$BUILD/ninja.log" >&2
    echo "[setup] build failed; full log in $BUILD/ninja.log" >&2
    exit 1
  fi
  log "built $BUILD/kgw"
}

need_root
install_packages
keep_nginx_service_off
keep_dns_services_off
setup_hugepages
build
