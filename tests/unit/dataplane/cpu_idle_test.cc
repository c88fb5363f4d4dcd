// dataplane.control_cpu_idle: poll, over a directory shaped as sysfs's cpu directory.
#include "dataplane/cpu_idle.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace kgw {
namespace {

namespace fs = std::filesystem;

class CpuIdle : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kgw-cpu-idle-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    for (unsigned cpu : {0u, 1u}) {
      fs::create_directories(dir_ / ("cpu" + std::to_string(cpu)) / "power");
      set(cpu, cpu == 0 ? "0" : "20");
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path file(unsigned cpu) const { return dir_ / ("cpu" + std::to_string(cpu)) / "power" / "pm_qos_resume_latency_us"; }
  void set(unsigned cpu, const std::string& v) const { std::ofstream(file(cpu)) << v << "\n"; }
  std::string value(unsigned cpu) const {
    std::string v;
    std::ifstream(file(cpu)) >> v;
    return v;
  }
  fs::path dir_;
};

TEST_F(CpuIdle, TheNamedCpusPollWhileItLivesAndGetTheirSettingBack) {
  {
    cpu_idle_poll poll({1}, dir_.string());
    EXPECT_TRUE(poll.errors().empty());
    EXPECT_EQ(value(1), "n/a") << "no resume latency tolerated: the idle loop polls";
    EXPECT_EQ(value(0), "0") << "only the CPUs named";
    EXPECT_EQ(poll.held(), "cpu1 (was 20)");
  }
  EXPECT_EQ(value(1), "20");
  EXPECT_EQ(value(0), "0");
}

TEST_F(CpuIdle, ACpuWithoutTheSettingIsAnErrorAndTheOthersStillPoll) {
  {
    cpu_idle_poll poll({0, 7}, dir_.string());
    ASSERT_EQ(poll.errors().size(), 1u);
    EXPECT_NE(poll.errors()[0].find("cpu7: cannot read"), std::string::npos) << poll.errors()[0];
    EXPECT_EQ(value(0), "n/a");
    EXPECT_EQ(poll.held(), "cpu0 (was 0)");
  }
  EXPECT_EQ(value(0), "0");
  EXPECT_FALSE(fs::exists(dir_ / "cpu7")) << "nothing made for a CPU that is not there";
}

TEST_F(CpuIdle, ACpuThatPolledAlreadyIsLeftToWhoeverSetIt) {
  set(0, "n/a");
  {
    cpu_idle_poll poll({0}, dir_.string());
    EXPECT_TRUE(poll.errors().empty());
    EXPECT_EQ(poll.held(), "cpu0 (was n/a)");
    set(0, "0");  // the other one stopped first and put back its setting
  }
  EXPECT_EQ(value(0), "0") << "not n/a again: nobody would ever put it back";
}

}  // namespace
}  // namespace kgw
