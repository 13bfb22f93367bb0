// What a tracing command's run is, start to end: the environment, its plan,
// the compiled program (from --bundle, from a bundle directory, from the
// compile cache, or compiled now), then the session. Commands give their
// plan and their reporter; everything else is here, once.
#pragma once

#include <functional>
#include <string>

#include "runner/bpf/object.h"
#include "runner/kernel/facts.h"
#include "runner/session/plan.h"
#include "runner/session/session.h"

namespace skbtrail {

struct ToolRun {
  std::string command;  // "drop"
  const RunOptions* run = nullptr;
  // The options that shape the program, as the user would read them
  // ("dport 9, --stack"): recorded in bundles, shown when one does not fit.
  std::string program_options;
  std::function<Plan(const KernelFacts&)> plan;
  SessionSettings settings;
  ReporterFactory reporter;
};

int run_tool(const ToolRun& tool);

// The compiled program of a plan: from the compile cache when it has it
// (unless --no-cache), else compiled and stored. `origin` says which.
BpfObject obtain_program(const Plan& plan, const KernelFacts& facts, const RunOptions& run, std::string& origin);

// $SKBTRAIL_BUNDLES: a directory of bundles (the VM scenarios use the ones
// compiled on the host) tried before compiling.
inline constexpr const char* kBundleDirVariable = "SKBTRAIL_BUNDLES";

}  // namespace skbtrail
