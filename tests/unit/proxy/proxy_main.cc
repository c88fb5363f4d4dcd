// main() for the proxy tests: an EAL without hugepages or devices, and a
// mempool large enough for several stacks' buffers.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace kgw::proxy::test {
rte_mempool* pool;
}
// The TLS tests' helpers (tests/unit/tls/tls_harness.h) take mbufs from the same pool.
namespace kgw::tls::test {
rte_mempool* pool;
}

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::string prefix = "--file-prefix=kgw-unit-proxy-" + std::to_string(getpid());
  const char* eal_argv[] = {argv[0], "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
                            prefix.c_str(), "--no-telemetry", "-l", "0", "--log-level=*:warning"};
  if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]), const_cast<char**>(eal_argv)) < 0) {
    fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  rmdir(rte_eal_get_runtime_dir());
  // The worker's per-lcore cache (dataplane.mbuf_cache's default), so that
  // perf/proxy/instructions counts allocations as a worker makes them;
  // rte_mempool_in_use_count, which the leak checks read, counts the cache.
  kgw::proxy::test::pool =
      rte_pktmbuf_pool_create("proxy_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!kgw::proxy::test::pool) {
    fprintf(stderr, "mempool create failed\n");
    return 1;
  }
  kgw::tls::test::pool = kgw::proxy::test::pool;
  int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}
