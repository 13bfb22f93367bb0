// Runs a shell command and collects what it printed, for tests that drive
// the real skbtrail binary.
#pragma once

#include <string>
#include <vector>

namespace skbtrail::test {

struct CommandResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
  std::vector<std::string> err_lines() const;
  std::vector<std::string> out_lines() const;
};

// bash -c `script`; `timeout_s` kills the whole process group.
CommandResult run_shell(const std::string& script, int timeout_s = 120);

// The skbtrail binary under test, shell-quoted.
std::string skbtrail();

bool running_as_root();

}  // namespace skbtrail::test
