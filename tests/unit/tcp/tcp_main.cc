// main() for the TCP tests: an EAL without hugepages or devices (mbufs need a
// mempool), its own file prefix, and the runtime directory removed at exit.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include <unistd.h>

#include <cstdio>
#include <string>

namespace kgw::tcp::test {
rte_mempool* pool;
}

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::string prefix = "--file-prefix=kgw-unit-tcp-" + std::to_string(getpid());
  const char* eal_argv[] = {"unit_tcp", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
                            prefix.c_str(), "--no-telemetry", "-l", "0", "--log-level=*:warning"};
  if (rte_eal_init(sizeof(eal_argv) / sizeof(eal_argv[0]), const_cast<char**>(eal_argv)) < 0) {
    fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  kgw::tcp::test::pool =
      rte_pktmbuf_pool_create("tcp_pool", 16383, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!kgw::tcp::test::pool) {
    fprintf(stderr, "mempool create failed\n");
    return 1;
  }
  int rc = RUN_ALL_TESTS();
  std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  rmdir(runtime_dir.c_str());
  return rc;
}
