// The watcher's reading of inotify events, over a real directory: the names
// a batch carries, when only a full scan will do, and a new file still open
// for writing (the watcher waits for it before a pass reads it half written).
#include "control/services/changed_names.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace kgw {
namespace {

namespace fs = std::filesystem;

class ChangedNames : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kgw-events-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    ASSERT_GE(fd_, 0);
    ASSERT_GE(inotify_add_watch(fd_, dir_.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                                       IN_CREATE | IN_ATTRIB),
              0);
  }
  void TearDown() override {
    close(fd_);
    fs::remove_all(dir_);
  }
  // Every event queued so far, into `names`.
  void drain(changed_names& names) {
    alignas(inotify_event) char buf[4096];
    ssize_t n;
    while ((n = read(fd_, buf, sizeof buf)) > 0) names.add(buf, static_cast<size_t>(n));
  }
  std::string dir_;
  int fd_ = -1;
};

TEST_F(ChangedNames, NamesTheFilesWrittenRenamedAndRemoved) {
  std::ofstream(dir_ + "/a.yaml") << "x";
  std::ofstream(dir_ + "/.b.tmp") << "y";
  fs::rename(dir_ + "/.b.tmp", dir_ + "/b.yaml");
  fs::remove(dir_ + "/a.yaml");
  changed_names names;
  drain(names);
  EXPECT_TRUE(names.complete);
  std::set<std::string> seen(names.names.begin(), names.names.end());
  EXPECT_EQ(seen, (std::set<std::string>{"a.yaml", ".b.tmp", "b.yaml"}));
  EXPECT_FALSE(names.still_written(dir_));
}

TEST_F(ChangedNames, ASubdirectoryMeansAFullScan) {
  fs::create_directory(dir_ + "/..2026_11_27");
  changed_names names;
  drain(names);
  EXPECT_FALSE(names.complete);
}

TEST_F(ChangedNames, ANewFileIsWaitedForUntilItsWriterClosesIt) {
  int w = open((dir_ + "/slow.yaml").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(w, 0);
  ASSERT_EQ(write(w, "apiVersion: v1\n", 15), 15);
  changed_names names;
  drain(names);
  EXPECT_TRUE(names.still_written(dir_)) << "created and still open";
  close(w);
  drain(names);
  EXPECT_FALSE(names.still_written(dir_)) << "closed";

  // A symlink is whole when it appears (a ConfigMap volume's entries).
  fs::create_symlink("slow.yaml", dir_ + "/link.yaml");
  changed_names more;
  drain(more);
  EXPECT_FALSE(more.still_written(dir_));

  // Created and gone again before the pass: nothing to wait for.
  int g = open((dir_ + "/gone.yaml").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(g, 0);
  changed_names gone;
  drain(gone);
  fs::remove(dir_ + "/gone.yaml");
  EXPECT_FALSE(gone.still_written(dir_));
  close(g);
}

}  // namespace
}  // namespace kgw
