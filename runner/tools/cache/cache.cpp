#include "runner/tools/cache/cache.h"

#include <cstdio>

#include <fmt/format.h>

#include "runner/common/errors.h"
#include "runner/session/compile_cache.h"
#include "runner/tools/options.h"

namespace skbtrail {

namespace {

struct CacheOptions {
  std::string action;  // list | clear
  std::string dir;     // --cache-dir
};

int run_cache(const CacheOptions& o) {
  const CompileCache cache(o.dir);
  if (o.action == "clear") {
    std::printf("skbtrail cache: removed %zu entries from %s\n", cache.clear(), cache.directory().c_str());
    return 0;
  }
  const auto entries = cache.list();
  std::printf("%s: %zu entries\n", cache.directory().c_str(), entries.size());
  for (const auto& e : entries)
    std::printf("  %-14s %-28s %8ju bytes  %s\n", e.program.c_str(), e.kernel.c_str(), e.bytes,
                e.file.filename().c_str());
  return 0;
}

class CacheTool : public Tool {
 public:
  std::string_view name() const override { return "cache"; }
  std::string_view synopsis() const override { return "cache"; }
  std::string_view summary() const override { return "list or clear the compile cache (cache list | cache clear)"; }
  Command parse(const std::vector<std::string>& args) const override {
    po::options_description d("cache");
    d.add_options()("action", po::value<std::string>(), "list or clear")(
        "cache-dir", po::value<std::string>()->value_name("DIR"), "the cache (default /var/cache/skbtrail)")(
        "help,h", "this help");
    po::positional_options_description positional;
    positional.add("action", 1);
    const auto vm = parse_options("cache", args, d, positional);
    if (vm.count("help"))
      return Command::show(help_text("usage: skbtrail cache list|clear [--cache-dir DIR]\n\nCompiled programs are kept "
                                     "per program text, flags, headers and versions, so the next run loads without "
                                     "compiling (--no-cache skips it). list shows them, clear removes them.",
                                     d, ""));
    CacheOptions o{text_of(vm, "action"), text_of(vm, "cache-dir")};
    if (o.action != "list" && o.action != "clear")
      throw UsageError(fmt::format("cache '{}': say list or clear (skbtrail cache list)", o.action));
    return Command::run(std::move(o), &run_cache);
  }
};

}  // namespace

const Tool& cache_tool() {
  static const CacheTool tool;
  return tool;
}

}  // namespace skbtrail
