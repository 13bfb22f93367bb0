#include "runner/session/run.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "runner/bpf/program.h"
#include "runner/common/errors.h"
#include "runner/session/bundle.h"
#include "runner/session/compile_cache.h"
#include "runner/session/environment.h"
#include "runner/session/interrupt.h"

namespace skbtrail {

namespace fs = std::filesystem;

BpfObject obtain_program(const Plan& plan, const KernelFacts& facts, const RunOptions& run, std::string& origin) {
  std::optional<CompileCache> cache;
  std::string key;
  if (run.cache) {
    cache.emplace(run.headers.cache_root);
    key = CompileCache::key_text(plan, facts);
    std::string note;
    std::optional<BpfObject> cached = cache->lookup(key, note);
    if (!note.empty()) std::fprintf(stderr, "skbtrail %s: %s\n", plan.command.c_str(), note.c_str());
    if (cached) {
      origin = fmt::format("from the compile cache ({})", cache->directory().string());
      return std::move(*cached);
    }
  }
  if (run.verbose) std::fprintf(stderr, "skbtrail %s: compiling %s\n", plan.command.c_str(), plan.label.c_str());
  const auto start = std::chrono::steady_clock::now();
  BpfObject object = compile_plan(plan, facts.headers());
  origin = fmt::format("compiled in {:.1f} s", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (cache) {
    std::string note;
    cache->store(key, object, note);
    if (!note.empty() && run.verbose) std::fprintf(stderr, "skbtrail %s: %s\n", plan.command.c_str(), note.c_str());
  }
  return object;
}

namespace {

struct Fitting {
  Bundle bundle;
  Plan plan;
};

// The bundle that fits this run: `path` is one bundle, or a directory of
// them (one per kernel, say) where the first that fits is taken. Throws
// what does not fit (for a directory: why none does).
Fitting fitting_bundle(const ToolRun& tool, const fs::path& path, const KernelFacts& running) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& item : fs::directory_iterator(path, ec))
      if (item.path().extension() == ".bundle") files.push_back(item.path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  std::string why;
  for (const auto& file : files) {
    try {
      Bundle bundle = read_bundle(file);
      Plan plan = tool.plan(bundle_facts(bundle));
      check_bundle_fits(bundle, tool.command, tool.program_options, plan, running);
      return {std::move(bundle), std::move(plan)};
    } catch (const std::exception& e) {
      if (files.size() == 1 && !fs::is_directory(path, ec)) throw;
      why += fmt::format("\n  {}: {}", file.filename().string(), e.what());
    }
  }
  throw EnvironmentError(fmt::format("no bundle in {} fits 'skbtrail {} {}' on kernel {}{}", path.string(),
                                     tool.command, tool.program_options, running.kernel().release,
                                     why.empty() ? " (there are none)" : why));
}

int run_bundle(const ToolRun& tool, const Fitting& fit, const KernelFacts& running) {
  const std::string origin = fmt::format("from bundle {}", fit.bundle.path);
  return run_session(fit.plan, running, fit.bundle.object, origin, tool.settings, tool.reporter);
}

}  // namespace

int run_tool(const ToolRun& tool) {
  const RunOptions& run = *tool.run;
  interrupt::install(tool.command.c_str());
  if (!run.bundle.empty()) {
    // No headers: the running kernel as far as attaching goes.
    KernelInfo kernel = usable_kernel(tool.command);
    HeaderChoice none;
    none.mode = "none";
    const KernelFacts probe = KernelFacts::running(kernel, none, {});  // symbols not needed to choose
    Fitting fit = fitting_bundle(tool, run.bundle, probe);
    HeaderChoice used = fit.bundle.headers;  // how it was compiled, for the banner
    const KernelFacts running = KernelFacts::running(std::move(kernel), used, load_kallsyms_async());
    return run_bundle(tool, fit, running);
  }
  const KernelFacts facts = open_environment(run.headers, tool.command);
  // $SKBTRAIL_BUNDLES: bundles compiled elsewhere for this kernel (the VM
  // scenarios' from the host), taken when one fits.
  if (const char* dir = std::getenv(kBundleDirVariable); dir && *dir) {
    try {
      Fitting fit = fitting_bundle(tool, dir, facts);
      std::fprintf(stderr, "skbtrail %s: program from bundle %s\n", tool.command.c_str(), fit.bundle.path.c_str());
      return run_bundle(tool, fit, facts);
    } catch (const EnvironmentError&) {
      std::fprintf(stderr, "skbtrail %s: no bundle in %s fits this run: compiling\n", tool.command.c_str(), dir);
    }
  }
  const Plan plan = tool.plan(facts);
  std::string origin;
  const BpfObject object = obtain_program(plan, facts, run, origin);
  return run_session(plan, facts, object, origin, tool.settings, tool.reporter);
}

}  // namespace skbtrail
