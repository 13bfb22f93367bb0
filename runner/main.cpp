// skbtrail: the CLI. Everything lives in the runner library; this file only
// maps outcomes to messages and exit codes.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "runner/cli.h"
#include "runner/errors.h"

int main(int argc, char** argv) {
  using namespace skbtrail;
  try {
    const Command command = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    if (const auto* text = std::get_if<ShowText>(&command)) {
      std::fputs(text->text.c_str(), stdout);
      return 0;
    }
    if (const auto* doctor = std::get_if<DoctorOptions>(&command)) return run_doctor(*doctor);
    if (const auto* exec = std::get_if<ExecOptions>(&command)) return run_exec(*exec);
    if (const auto* trace = std::get_if<TraceOptions>(&command)) return run_trace(*trace);
    if (const auto* symbolize = std::get_if<SymbolizeOptions>(&command)) return run_symbolize(*symbolize);
    if (const auto* rst = std::get_if<RstOptions>(&command)) return run_rst(*rst);
    if (const auto* check = std::get_if<CheckOptions>(&command)) return run_check(*check);
    return run_drop(std::get<DropOptions>(command));
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
