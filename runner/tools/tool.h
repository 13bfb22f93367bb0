// One interface for every skbtrail command, and the one registry that lists
// them. main, --help, the unknown-command message, doctor, check and the
// profiles all iterate the registry, so adding a command is one folder under
// runner/tools/ plus one line in runner/tools/registry.cpp.
//
// A tracing command also answers "what would you compile and attach on this
// kernel?" with a Plan (runner/session/plan.h), for the default options
// (doctor) and for its largest configurations (check). The command's own
// run builds its plan the same way, so the three cannot drift.
#pragma once

#include <any>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/kernel/facts.h"
#include "runner/session/plan.h"
#include "runner/session/run_options.h"

namespace skbtrail {

class Tool;

// A parsed command line: text to print (--help, --version, list) or a
// command's options with the function that runs them.
class Command {
 public:
  static Command show(std::string text);
  template <typename Options>
  static Command run(Options options, int (*runner)(const Options&)) {
    Command c;
    c.options_ = std::move(options);
    c.runner_ = [runner](const std::any& o) { return runner(std::any_cast<const Options&>(o)); };
    return c;
  }

  bool shows_text() const { return !runner_; }
  const std::string& text() const { return text_; }
  int execute() const { return runner_(options_); }

  // The parsed options, when this command has options of that type.
  template <typename Options>
  const Options* options() const {
    return std::any_cast<Options>(&options_);
  }
  // The same, or std::bad_any_cast.
  template <typename Options>
  const Options& get() const {
    return std::any_cast<const Options&>(options_);
  }

 private:
  std::string text_;
  std::any options_;
  std::function<int(const std::any&)> runner_;
};

class Tool {
 public:
  virtual ~Tool() = default;
  virtual std::string_view name() const = 0;
  // "drop      watch packet drops: ..." in skbtrail --help.
  virtual std::string_view synopsis() const { return name(); }
  virtual std::string_view summary() const = 0;
  // args exclude the command name. Throws UsageError naming the bad input.
  virtual Command parse(const std::vector<std::string>& args) const = 0;

  // Tracing commands: the plan of the command with its default options on
  // `facts` (doctor), and every configuration its options can produce, the
  // largest ones (check). Throws EnvironmentError when the command cannot
  // run on that kernel at all.
  virtual bool traces() const { return false; }
  virtual Plan default_plan(const KernelFacts& facts) const;
  virtual std::vector<Plan> check_plans(const KernelFacts& facts) const;
  // The plan of a parsed command line on `facts`, the options that shape it
  // as a user reads them, and its run options (skbtrail bundle).
  virtual Plan plan_of(const Command& command, const KernelFacts& facts) const;
  virtual std::string program_options_of(const Command& command) const;
  virtual const RunOptions* run_options_in(const Command& command) const;
};

// Every command, in the order --help lists them.
const std::vector<const Tool*>& tools();
const Tool* find_tool(std::string_view name);  // nullptr when unknown
std::vector<std::string> tracing_tool_names();  // the commands a profile may run

}  // namespace skbtrail
