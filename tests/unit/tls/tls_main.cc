// main() for the TLS tests that need mbufs: an EAL without hugepages or
// devices, one pool large enough for a few hundred KiB in flight both ways.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include <unistd.h>

#include <cstdio>
#include <string>

namespace kgw::tls::test {
rte_mempool* pool;
}

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::string prefix = "--file-prefix=kgw-unit-tls-" + std::to_string(getpid());
  const char* eal_argv[] = {"unit_tls", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
                            prefix.c_str(), "--no-telemetry", "-l", "0", "--log-level=*:warning"};
  if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]), const_cast<char**>(eal_argv)) < 0) {
    fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  // Without shared config EAL keeps nothing in its runtime directory.
  rmdir(rte_eal_get_runtime_dir());
  kgw::tls::test::pool = rte_pktmbuf_pool_create("tls_pool", 16383, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!kgw::tls::test::pool) {
    fprintf(stderr, "mempool create failed\n");
    return 1;
  }
  int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}
