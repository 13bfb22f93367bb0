// skbtrail: the CLI. Everything lives in the runner libraries; this file
// only maps outcomes to messages and exit codes.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "runner/cli/command_line.h"
#include "runner/common/errors.h"

int main(int argc, char** argv) {
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
