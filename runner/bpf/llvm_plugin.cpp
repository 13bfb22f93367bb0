#include "runner/bpf/llvm_plugin.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "runner/common/errors.h"

namespace skbtrail {

#ifdef SKBTRAIL_LLVM_BUILTIN

const LlvmPlugin& llvm_plugin() { return *skbtrail_llvm_plugin_v1(); }

#else

namespace {

const LlvmPlugin* load_plugin() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (const char* dir = std::getenv("SKBTRAIL_PLUGIN_DIR"); dir && *dir) candidates.push_back(fs::path(dir));
  if (!ec) {
    candidates.push_back(exe.parent_path());
    candidates.push_back(exe.parent_path() / "../lib/skbtrail");
    candidates.push_back(exe.parent_path() / "../runner");  // the build tree's tests/ beside runner/
  }
  std::string tried;
  for (const auto& dir : candidates) {
    const fs::path file = dir / "libskbtrail-llvm.so";
    if (!fs::exists(file, ec)) {
      tried += (tried.empty() ? "" : ", ") + file.string();
      continue;
    }
    void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      throw EnvironmentError(fmt::format("cannot load {}: {} (reinstall skbtrail)", file.string(), ::dlerror()));
    auto* entry = reinterpret_cast<const LlvmPlugin* (*)()>(::dlsym(handle, "skbtrail_llvm_plugin_v1"));
    const LlvmPlugin* plugin = entry ? entry() : nullptr;
    if (!plugin || plugin->abi != LlvmPlugin::kAbi)
      throw EnvironmentError(fmt::format("{} is from another skbtrail build (reinstall skbtrail)", file.string()));
    return plugin;
  }
  throw EnvironmentError(fmt::format("compiling and --symbolize need libskbtrail-llvm.so, not found ({}); install "
                                     "it beside skbtrail, or run from a bundle (skbtrail bundle)",
                                     tried));
}

}  // namespace

const LlvmPlugin& llvm_plugin() {
  static const LlvmPlugin* plugin = load_plugin();
  return *plugin;
}

#endif

std::unique_ptr<SourceAnnotator> open_annotator_or_explain(const std::optional<std::string>& request,
                                                           const char* command) {
  if (!request) return nullptr;
  std::string error;
  std::unique_ptr<SourceAnnotator> annotator;
  try {
    annotator = llvm_plugin().open_annotator(*request, error);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!annotator) std::fprintf(stderr, "skbtrail %s: --symbolize: %s; printing func+0xoff only\n", command, error.c_str());
  return annotator;
}

}  // namespace skbtrail
