#include "runner/netfilter/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace skbtrail::netfilter {

// This thread's /proc entry. setns() switches one thread, so its own view
// is the one to read; /proc/thread-self is only 3.17+ (RHEL 7 lacks it),
// /proc/self/task/TID is everywhere.
std::string this_thread_proc(const char* rest) {
  return fmt::format("/proc/self/task/{}/{}", gettid(), rest);
}

uint64_t current_netns() {
  struct stat st {};
  if (stat(this_thread_proc("ns/net").c_str(), &st) != 0) return 0;
  return st.st_ino;
}

namespace {

// A file descriptor of the network namespace with this inode: a bind mount
// under /run/netns, else any process inside it.
int open_netns(uint64_t inode) {
  auto try_path = [inode](const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || st.st_ino != inode) return -1;
    return open(path.c_str(), O_RDONLY | O_CLOEXEC);
  };
  for (const char* dir_name : {"/run/netns", "/var/run/netns"}) {
    if (DIR* dir = opendir(dir_name)) {
      while (const dirent* entry = readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        const int fd = try_path(std::string(dir_name) + "/" + entry->d_name);
        if (fd >= 0) {
          closedir(dir);
          return fd;
        }
      }
      closedir(dir);
    }
  }
  DIR* proc = opendir("/proc");
  if (!proc) return -1;
  int fd = -1;
  while (const dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    if ((fd = try_path(std::string("/proc/") + entry->d_name + "/ns/net")) >= 0) break;
  }
  closedir(proc);
  return fd;
}

}  // namespace

NetnsEntry::NetnsEntry(uint64_t netns) {
  if (netns == current_netns()) {
    ok_ = true;
    return;
  }
  const int target = open_netns(netns);
  if (target < 0) {
    why_ = fmt::format("netns {} is gone (no process or /run/netns file holds it)", netns);
    return;
  }
  home_ = open(this_thread_proc("ns/net").c_str(), O_RDONLY | O_CLOEXEC);
  if (home_ < 0 || setns(target, CLONE_NEWNET) != 0) {
    why_ = fmt::format("cannot enter netns {}: {}", netns, std::strerror(errno));
    close(target);
    if (home_ >= 0) close(home_);
    home_ = -1;
    return;
  }
  close(target);
  ok_ = true;
}

NetnsEntry::~NetnsEntry() {
  if (home_ < 0) return;
  // Back home: if this failed, every later read would be of the wrong namespace.
  if (setns(home_, CLONE_NEWNET) != 0) std::abort();
  close(home_);
}

}  // namespace skbtrail::netfilter
