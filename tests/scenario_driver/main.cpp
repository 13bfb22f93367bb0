// skbtrail-scenarios: runs tests/scenarios/*.scn against the kernel it is on,
// or (--vm) boots one Debian VM and runs them there.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <thread>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "runner/kernel/kallsyms.h"
#include "runner/kernel/kernel_info.h"
#include "runner/session/run.h"
#include "scenario_driver/host_bundles.h"
#include "scenario_driver/scenario.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;
using namespace skbtrail;
using namespace skbtrail::scenarios;
using Clock = std::chrono::steady_clock;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Starts `bash -c script` in its own process group with output to `log`.
pid_t spawn(const std::string& script, const fs::path& log) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::setpgid(0, 0);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, STDIN_FILENO);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execl("/bin/bash", "bash", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(child, child);
  return child;
}

// Waits for `pid` until `deadline`; returns its exit code, or nullopt on timeout.
std::optional<int> wait_until(pid_t pid, Clock::time_point deadline) {
  while (true) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// SIGINT first (skbtrail detaches and prints its summary), then SIGKILL.
void stop_group(pid_t pid) {
  ::kill(-pid, SIGINT);
  if (wait_until(pid, Clock::now() + std::chrono::seconds(10))) return;
  ::kill(-pid, SIGKILL);
  wait_until(pid, Clock::now() + std::chrono::seconds(5));
}

struct Shell {
  std::optional<int> code;
  std::string output;
};

Shell run_shell(const std::string& script, const fs::path& work, const std::string& label, Clock::time_point deadline) {
  const fs::path log = work / (label + ".log");
  const pid_t pid = spawn("set -eo pipefail\n" + script, log);
  Shell result;
  result.code = wait_until(pid, deadline);
  if (!result.code) stop_group(pid);
  result.output = slurp(log);
  return result;
}

std::string tail(const std::string& text, size_t lines = 25) {
  size_t at = text.size();
  for (size_t n = 0; n <= lines && at != std::string::npos && at > 0; ++n) at = text.rfind('\n', at - 1);
  std::string out = (at == std::string::npos || at == 0) ? text : text.substr(at + 1);
  std::string indented;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) indented += "    | " + l + "\n";
  return indented;
}

Outcome execute(const Scenario& s, const fs::path& skbtrail, int index) {
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(s.timeout_s);
  // TMPDIR: in the VM /tmp may be the host's read-only one.
  const char* tmp = std::getenv("TMPDIR");
  std::string dir_template = std::string(tmp && *tmp ? tmp : "/tmp") + "/skbtrail-scenario-XXXXXX";
  const fs::path work = ::mkdtemp(dir_template.data());
  ::setenv("SKBTRAIL", skbtrail.c_str(), 1);
  ::setenv("NS", fmt::format("skbt{}s{}", ::getpid() % 100000, index).c_str(), 1);
  ::setenv("WORK", work.c_str(), 1);
  ::setenv("SCENARIO_DIR", fs::path(s.file).parent_path().c_str(), 1);
  ::setenv("TESTBIN", fs::canonical("/proc/self/exe").parent_path().c_str(), 1);

  Outcome outcome;
  auto finish = [&](Outcome::Kind kind, std::string detail) {
    outcome.kind = kind;
    outcome.detail = std::move(detail);
  };

  pid_t run_pid = -1;
  do {
    if (!s.setup.empty()) {
      const Shell setup = run_shell(s.setup, work, "setup", deadline);
      if (setup.code != 0) {
        finish(Outcome::Fail, fmt::format("SETUP {}\n{}", setup.code ? fmt::format("exited {}", *setup.code)
                                                                      : std::string("timed out"),
                                          tail(setup.output)));
        break;
      }
    }
    const fs::path run_log = work / "run.log";
    run_pid = spawn("exec " + s.run, run_log);
    bool ready = false;
    while (Clock::now() < deadline) {
      if (slurp(run_log).find(s.ready) != std::string::npos) {
        ready = true;
        break;
      }
      int status = 0;
      if (::waitpid(run_pid, &status, WNOHANG) == run_pid) {
        run_pid = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!ready) {
      outcome.output = slurp(run_log);
      finish(Outcome::Fail, fmt::format("RUN never printed READY text '{}' ({})\n{}", s.ready,
                                        run_pid < 0 ? "it exited" : "timed out", tail(outcome.output)));
      break;
    }
    if (!s.trigger.empty()) {
      const Shell trigger = run_shell(s.trigger, work, "trigger", deadline);
      if (trigger.code != 0) {
        outcome.output = slurp(run_log);
        finish(Outcome::Fail, fmt::format("TRIGGER {}\n{}", trigger.code ? fmt::format("exited {}", *trigger.code)
                                                                          : std::string("timed out"),
                                          tail(trigger.output)));
        break;
      }
    }
    const auto code = wait_until(run_pid, deadline);
    if (!code) stop_group(run_pid);
    run_pid = -1;
    outcome.output = slurp(run_log);
    if (!code) {
      finish(Outcome::Fail, fmt::format("RUN still running after TIMEOUT {}s\n{}", s.timeout_s, tail(outcome.output)));
      break;
    }
    if (s.exit_code && *code != *s.exit_code) {
      finish(Outcome::Fail, fmt::format("RUN exited {}, EXIT says {}\n{}", *code, *s.exit_code, tail(outcome.output)));
      break;
    }
    if (const std::string failed = check_output(s, outcome.output); !failed.empty()) {
      finish(Outcome::Fail, fmt::format("{} (RUN exited {})\n{}", failed, *code, tail(outcome.output)));
      break;
    }
    finish(Outcome::Pass, {});
  } while (false);

  if (run_pid > 0) stop_group(run_pid);
  if (!s.cleanup.empty()) run_shell(s.cleanup, work, "cleanup", Clock::now() + std::chrono::seconds(30));
  fs::remove_all(work);

  const std::chrono::duration<double> took = Clock::now() - start;
  if (!s.xfail.empty()) {
    if (outcome.kind == Outcome::Fail) {
      const std::string first_line = outcome.detail.substr(0, outcome.detail.find('\n'));
      finish(Outcome::Pass, fmt::format("failed as expected ({}): {}", s.xfail, first_line));
    } else {
      finish(Outcome::Fail, fmt::format("XFAIL scenario passed; the driver cannot detect failure ({})", s.xfail));
    }
  }
  outcome.detail = fmt::format("{:.1f}s{}{}", took.count(), outcome.detail.empty() ? "" : ": ", outcome.detail);
  return outcome;
}

Facts machine_facts() {
  static const KernelInfo kernel = probe_kernel({.mount_tracefs = true, .check_bpf = true});
  static const Kallsyms kallsyms = [] {
    try {
      return Kallsyms::load();
    } catch (...) {
      return Kallsyms();
    }
  }();
  Facts f;
  f.root = ::geteuid() == 0 && kernel.bpf.allowed;
  f.kprobes = kernel.has_kprobes;
  f.btf = kernel.has_btf();
  f.headers = kernel.has_headers();
  f.rhel7 = kernel.rhel_major == 7;
  f.version_code = kernel.version_code;
  f.has_tracepoint = [](const std::string& name) {
    const auto colon = name.find(':');
    return colon != std::string::npos && kernel.has_tracepoint(name.substr(0, colon), name.substr(colon + 1));
  };
  f.has_function = [](const std::string& name) { return kallsyms.has_function(name); };
  f.has_command = [](const std::string& name) {
    return std::system(fmt::format("command -v '{}' >/dev/null 2>&1", name).c_str()) == 0;
  };
  return f;
}

std::vector<fs::path> scenario_files(const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    if (fs::is_directory(p)) {
      for (const auto& entry : fs::directory_iterator(p))
        if (entry.path().extension() == ".scn") files.push_back(fs::absolute(entry.path()));
    } else {
      files.push_back(fs::absolute(p));
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Which scenarios a run takes: --filter/--exclude on names, --tags.
struct Selection {
  std::string filter, exclude;
  std::vector<std::string> tags;
  bool takes(const Scenario& s) const {
    if (!filter.empty() && s.name.find(filter) == std::string::npos) return false;
    if (!exclude.empty() && s.name.find(exclude) != std::string::npos) return false;
    return has_any_tag(s, tags);
  }
};

int run_here(const std::vector<fs::path>& files, const std::string& where, const fs::path& skbtrail,
             const Selection& selection) {
  std::vector<Scenario> all;
  for (const auto& file : files) {
    if (!fs::exists(file)) throw ScenarioError(fmt::format("{}: no such scenario file", file.string()));
    auto parsed = parse_scenarios(slurp(file), file.string());
    all.insert(all.end(), parsed.begin(), parsed.end());
  }
  const Facts facts = machine_facts();
  int passed = 0, failed = 0, skipped = 0, index = 0;
  for (const auto& s : all) {
    ++index;
    if (!selection.takes(s)) continue;
    if (s.where != "any" && s.where != where) continue;
    if (const auto missing = unmet_requirement(s, facts)) {
      ++skipped;
      std::cout << fmt::format("SKIP  {} [{}]: missing {}\n", s.name, where, *missing) << std::flush;
      continue;
    }
    const Outcome o = execute(s, skbtrail, index);
    if (o.kind == Outcome::Pass) {
      ++passed;
      std::cout << fmt::format("PASS  {} [{}] ({})\n", s.name, where, o.detail) << std::flush;
    } else {
      ++failed;
      std::cout << fmt::format("FAIL  {} [{}] ({})\n", s.name, where, o.detail) << std::flush;
    }
  }
  std::cout << fmt::format("{} passed, {} failed, {} skipped\n", passed, failed, skipped) << std::flush;
  return failed == 0 ? 0 : 1;
}

// What tools/vm --describe says of the kernel it would boot: release=,
// image=, headers=, modules= lines.
std::map<std::string, std::string> describe_vm_kernel(const std::string& vm_runner, const std::string& kernel) {
  std::string command = fmt::format("'{}'", vm_runner);
  if (!kernel.empty()) command += fmt::format(" --kernel '{}'", kernel);
  FILE* pipe = ::popen((command + " --describe 2>/dev/null").c_str(), "r");
  std::map<std::string, std::string> out;
  char buf[4096];
  while (pipe && std::fgets(buf, sizeof(buf), pipe)) {
    std::string line = buf;
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    if (const auto eq = line.find('='); eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (pipe) ::pclose(pipe);
  return out;
}

// Compiles the VM scenarios' programs here, for the VM's kernel (its
// release and headers from tools/vm --describe). Returns the directory of
// bundles, or "" when that kernel has no headers here.
fs::path bundle_for_vm(const std::vector<fs::path>& files, const fs::path& skbtrail, const std::string& vm_runner,
                       const std::string& kernel, const Selection& selection) {
  const auto described = describe_vm_kernel(vm_runner, kernel);
  const std::string release = described.contains("release") ? described.at("release") : "";
  const fs::path headers = described.contains("headers") ? described.at("headers") : "";
  if (release.empty() || headers.empty() || !fs::exists(headers / "include")) return {};
  std::vector<Scenario> all;
  for (const auto& file : files) {
    auto parsed = parse_scenarios(slurp(file), file.string());
    for (auto& s : parsed)
      if (selection.takes(s)) all.push_back(std::move(s));
  }
  const fs::path dir = fs::canonical("/proc/self/exe").parent_path() / ("vm-bundles-" + release);
  const auto start = Clock::now();
  const int made = prebuild_bundles(all, skbtrail, release, headers, dir);
  std::cout << fmt::format("compiled {} programs for {} here in {:.0f} s ({})\n", made, release,
                           std::chrono::duration<double>(Clock::now() - start).count(), dir.string())
            << std::flush;
  return dir;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description options("skbtrail-scenarios [OPTIONS] FILE|DIR...");
  options.add_options()
      ("vm", po::bool_switch(), "boot one VM (tools/vm) and run the vm/any scenarios inside it")
      ("kernel", po::value<std::string>()->default_value(""),
       "with --vm: the kernel to boot (tools/vm --kernel: a release, a kernel directory or an image)")
      ("tags", po::value<std::string>()->default_value(""), "only scenarios with one of these TAGS (comma-separated)")
      ("where", po::value<std::string>()->default_value("host"), "which scenarios run here: host or vm")
      ("skbtrail", po::value<std::string>()->default_value(SKBTRAIL_BINARY), "the skbtrail binary under test")
      ("vm-runner", po::value<std::string>()->default_value(SKBTRAIL_SOURCE_DIR "/tools/vm"), "the VM launcher")
      ("vm-timeout", po::value<int>()->default_value(3300), "seconds the whole VM run may take")
      ("filter", po::value<std::string>()->default_value(""), "only scenarios whose NAME contains this")
      ("exclude", po::value<std::string>()->default_value(""), "leave out scenarios whose NAME contains this")
      ("bundles", po::value<std::string>()->default_value(""), "inside the VM: the bundles compiled on the host")
      ("no-host-bundles", po::bool_switch(), "with --vm: compile every program inside the VM (the slow way)")
      ("help,h", "this help")
      ("paths", po::value<std::vector<std::string>>()->composing(), "scenario files or directories");
  po::positional_options_description positional;
  positional.add("paths", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "skbtrail-scenarios: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help") || !vm.count("paths")) {
    std::cout << options;
    return vm.count("help") ? 0 : 2;
  }
  const auto files = scenario_files(vm["paths"].as<std::vector<std::string>>());
  const fs::path skbtrail = fs::absolute(vm["skbtrail"].as<std::string>());
  try {
    if (const auto& bundles = vm["bundles"].as<std::string>(); !bundles.empty())
      ::setenv(kBundleDirVariable, bundles.c_str(), 1);
    Selection selection{vm["filter"].as<std::string>(), vm["exclude"].as<std::string>(), {}};
    const std::string tags = vm["tags"].as<std::string>();
    for (size_t at = 0; at < tags.size();) {
      const size_t comma = tags.find(',', at);
      const std::string tag = tags.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      if (!tag.empty()) selection.tags.push_back(tag);
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
    if (!vm["vm"].as<bool>()) return run_here(files, vm["where"].as<std::string>(), skbtrail, selection);

    // One VM for every scenario: each BCC compile costs ~100 s under TCG.
    const std::string& kernel = vm["kernel"].as<std::string>();
    std::string command = fmt::format("'{}' --timeout {}", vm["vm-runner"].as<std::string>(), vm["vm-timeout"].as<int>());
    if (!kernel.empty()) command += fmt::format(" --kernel '{}'", kernel);
    command += fmt::format(" -- '{}' --where vm --skbtrail '{}'", fs::canonical("/proc/self/exe").string(),
                           skbtrail.string());
    if (!selection.filter.empty()) command += fmt::format(" --filter '{}'", selection.filter);
    if (!selection.exclude.empty()) command += fmt::format(" --exclude '{}'", selection.exclude);
    if (!tags.empty()) command += fmt::format(" --tags '{}'", tags);
    if (!vm["no-host-bundles"].as<bool>())
      if (const auto dir = bundle_for_vm(files, skbtrail, vm["vm-runner"].as<std::string>(), kernel, selection);
          !dir.empty())
        command += fmt::format(" --bundles '{}'", dir.string());
    for (const auto& file : files) command += fmt::format(" '{}'", file.string());
    std::cout << "booting the VM: " << command << "\n" << std::flush;
    const int status = std::system(command.c_str());
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    if (code == 124 || code == 125) {
      std::cout << fmt::format("FAIL  the VM did not {} (tools/vm exit {})\n0 passed, 1 failed, 0 skipped\n",
                               code == 124 ? "finish in time" : "boot", code);
      return 1;
    }
    return code == 0 ? 0 : 1;
  } catch (const ScenarioError& e) {
    std::cerr << "skbtrail-scenarios: " << e.what() << "\n";
    return 2;
  }
}
