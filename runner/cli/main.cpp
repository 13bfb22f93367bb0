// skbtrail: the CLI. Everything lives in the runner libraries; this file
// only maps outcomes to messages and exit codes.
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "runner/cli/command_line.h"
#include "runner/common/errors.h"

namespace {

int run(int argc, char** argv) {
  using namespace skbtrail;
  try {
    const Command command = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    if (command.shows_text()) {
      std::fputs(command.text().c_str(), stdout);
      return 0;
    }
    return command.execute();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "skbtrail: %s\n", e.what());
    return kExitUsage;
  } catch (const EnvironmentError& e) {
    std::fprintf(stderr, "skbtrail: %s\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "skbtrail: %s\n", e.what());
    return kExitFailure;
  }
}

}  // namespace

// Everything a run holds in the kernel (probes, programs, maps) is released
// by the objects of run() before it returns. What is left are exit-time
// destructors, and once the LLVM plugin (libbcc, libclang, libLLVM) has been
// loaded with dlopen they free memory twice (seen after `doctor` and `check`
// compiled: "double free or corruption" from __run_exit_handlers). Nothing
// of ours needs them: the process ends without them, its output flushed.
int main(int argc, char** argv) {
  const int code = run(argc, argv);
  std::fflush(nullptr);
  ::_exit(code);
}
