#include "runner/tools/bundle/bundle.h"

#include <cstdio>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runner/bpf/program.h"
#include "runner/common/errors.h"
#include "runner/session/bundle.h"
#include "runner/tools/options.h"

namespace skbtrail {

namespace {

constexpr const char* kUsage = R"(usage: skbtrail bundle COMMAND [COMMAND OPTIONS] -o FILE [--tracepoint-formats DIR]

Compiles what `skbtrail COMMAND [COMMAND OPTIONS]` would load into FILE, for
the kernel whose headers --kernel-headers DIR holds (--kernel-release REL if
the tree does not say; the running kernel when no --kernel-headers is
given). On the target, `skbtrail COMMAND --bundle FILE [the same options]`
runs it with no headers and no compiler; a bundle for another kernel, or
run with options that change the program, is refused with what differs.

Tracepoint layouts: the running kernel's without --kernel-headers; else the
ones skbtrail knows for the target's version, or, with --tracepoint-formats
DIR, the target's own (a copy of its /sys/kernel/tracing/events). The
target checks them before loading.

examples:
  skbtrail bundle drop --dport 80 -o drop80.bundle
  skbtrail bundle rst --kernel-headers /usr/src/kernels/3.10.0-1160.el7.x86_64 -o rst-el7.bundle
  skbtrail bundle trace --proto icmp --kernel-headers ./build --kernel-release 4.19.322 --tracepoint-formats ./events -o t.bundle
)";

struct BundleOptions {
  const Tool* tool = nullptr;
  Command command;
  std::string output;
  std::string formats_dir;
};

int run_bundle(const BundleOptions& o) {
  const RunOptions& run = *o.tool->run_options_in(o.command);
  HeaderOptions headers = run.headers;
  KernelInfo target;
  if (headers.kernel_headers.empty()) {
    target = probe_kernel();
    if (o.formats_dir.empty() && target.tracefs.empty())
      throw EnvironmentError("bundle: tracefs is not mounted, so this kernel's tracepoint layouts are unknown (mount "
                             "it, or give --tracepoint-formats DIR)");
  } else {
    target = kernel_of_header_tree(headers);
    headers.force = true;  // the tree is for the target, not for this machine
    // The tree's own version.h gives the version kprobes must match (before
    // 5.0): Debian's 4.19.0-N is 4.19.2xx there, not what the name says.
    headers.kernel_release.clear();
  }
  const HeaderChoice choice = choose_headers(target, headers);
  KernelFacts facts = KernelFacts::assumed(target, choice);
  if (!o.formats_dir.empty()) facts.with_tracepoint_dir(o.formats_dir);
  else if (headers.kernel_headers.empty()) facts.with_tracepoint_dir(target.tracefs / "events");
  const Plan plan = o.tool->plan_of(o.command, facts);
  const BpfObject object = compile_plan(plan, choice);
  const std::string options = o.tool->program_options_of(o.command);
  write_bundle(o.output, plan, facts, options, object);
  std::printf("skbtrail bundle: wrote %s: %s (%s) for kernel %s, %zu functions, %zu maps\n", o.output.c_str(),
              std::string(o.tool->name()).c_str(), options.c_str(), target.release.c_str(), object.functions.size(),
              object.tables.size());
  return 0;
}

class BundleTool : public Tool {
 public:
  std::string_view name() const override { return "bundle"; }
  std::string_view synopsis() const override { return "bundle"; }
  std::string_view summary() const override {
    return "compile a command for a target kernel into one file (run it there with --bundle: no headers, no compiler)";
  }
  Command parse(const std::vector<std::string>& args) const override {
    if (args.empty() || args[0] == "--help" || args[0] == "-h")
      return Command::show(help_text(kUsage, po::options_description(), ""));
    BundleOptions o;
    o.tool = find_tool(args[0]);
    if (!o.tool || !o.tool->traces())
      throw UsageError(fmt::format("bundle '{}': give a tracing command first (skbtrail bundle {} ... -o FILE)", args[0],
                                   fmt::join(tracing_tool_names(), "|")));
    std::vector<std::string> rest;
    for (size_t i = 1; i < args.size(); ++i) {
      const std::string& a = args[i];
      auto value = [&](const char* option) {
        if (i + 1 == args.size()) throw UsageError(fmt::format("bundle: {} needs a value", option));
        return args[++i];
      };
      if (a == "-o" || a == "--output") o.output = value("-o");
      else if (a.starts_with("--output=")) o.output = a.substr(9);
      else if (a == "--tracepoint-formats") o.formats_dir = value("--tracepoint-formats");
      else if (a == "--bundle") throw UsageError("bundle: --bundle runs a bundle; leave it out when making one");
      else rest.push_back(a);
    }
    o.command = o.tool->parse(rest);
    if (o.command.shows_text()) return o.command;
    if (o.output.empty()) throw UsageError("bundle: where to write it? add -o FILE");
    return Command::run(std::move(o), &run_bundle);
  }
};

}  // namespace

const Tool& bundle_tool() {
  static const BundleTool tool;
  return tool;
}

}  // namespace skbtrail
