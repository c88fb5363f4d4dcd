// main() of the unit binaries that need real mbufs: an EAL without hugepages,
// devices or shared files, one mempool, then the tests.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "tests/unit/support/mbufs.h"

namespace kgw::test {

namespace {
rte_mempool* pool;
}

rte_mempool* mbuf_pool() { return pool; }

}  // namespace kgw::test

// A binary that needs more (the pod route FIBs) says so when it is compiled.
#ifndef KGW_UNIT_EAL_MB
#define KGW_UNIT_EAL_MB "64"
#endif

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::string prefix = "--file-prefix=kgw-unit-" + std::to_string(getpid());
  const char* eal_argv[] = {argv[0], "--no-huge", "-m", KGW_UNIT_EAL_MB, "--no-pci", "--no-shconf",
                            prefix.c_str(), "--no-telemetry", "-l", "0", "--log-level=*:warning"};
  if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]), const_cast<char**>(eal_argv)) < 0) {
    fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  // Without shared config EAL keeps nothing in its runtime directory: removed
  // now, a test that crashes or is killed leaves nothing behind either.
  rmdir(rte_eal_get_runtime_dir());
  kgw::test::pool = rte_pktmbuf_pool_create("unit_pool", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!kgw::test::pool) {
    fprintf(stderr, "mempool create failed\n");
    return 1;
  }
  int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}
