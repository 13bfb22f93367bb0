// Entering the network namespace an event came from, so a ruleset read (and
// the iptables child it may run) sees that namespace's tables.
#pragma once

#include <cstdint>
#include <string>

namespace skbtrail::netfilter {

// This thread's /proc entry ("ns/net" -> /proc/self/task/TID/ns/net).
std::string this_thread_proc(const char* rest);

// Enters a network namespace for the calling thread, and leaves it again.
class NetnsEntry {
 public:
  // netns: its inode (what the events carry). ok() is false, with why(),
  // when no process or /run/netns file holds it any more.
  explicit NetnsEntry(uint64_t netns);
  ~NetnsEntry();
  NetnsEntry(const NetnsEntry&) = delete;
  NetnsEntry& operator=(const NetnsEntry&) = delete;
  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }

 private:
  int home_ = -1;
  bool ok_ = false;
  std::string why_;
};

// The inode of the calling thread's network namespace.
uint64_t current_netns();

}  // namespace skbtrail::netfilter
