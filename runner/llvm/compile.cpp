// BCC compiles; what loading needs is copied out into a BpfObject.
#include "runner/llvm/plugin_parts.h"

#include <bcc/bpf_module.h>

#include <cstring>

#include <fmt/format.h>

namespace skbtrail {

std::optional<BpfObject> compile_with_bcc(const std::string& source, const std::vector<std::string>& cflags,
                                          std::string& error) {
  std::vector<const char*> argv;
  for (const auto& f : cflags) argv.push_back(f.c_str());
  // BCC creates the maps while compiling (so this needs bpf()); they go
  // away with the module: the loader makes its own.
  ebpf::BPFModule module(0);
  if (module.load_string(source, argv.data(), static_cast<int>(argv.size())) != 0) {
    error = "Unable to initialize BPF program";
    return std::nullopt;
  }
  BpfObject object;
  if (const char* license = module.license()) object.license = license;
  object.kern_version = module.kern_version();
  std::vector<int> fds;
  for (size_t i = 0; i < module.num_tables(); ++i) {
    object.tables.push_back({module.table_name(i), static_cast<uint32_t>(module.table_type(i)),
                             static_cast<uint32_t>(module.table_key_size(i)),
                             static_cast<uint32_t>(module.table_leaf_size(i)),
                             static_cast<uint32_t>(module.table_max_entries(i)),
                             static_cast<uint32_t>(module.table_flags(i))});
    fds.push_back(module.table_fd(i));
  }
  for (size_t i = 0; i < module.num_functions(); ++i) {
    BpfFunction function;
    function.name = module.function_name(i);
    const uint8_t* start = module.function_start(i);
    function.insns.assign(start, start + module.function_size(i));
    for (const auto& [slot, fd] : map_fd_loads(function.insns)) {
      size_t table = 0;
      while (table < fds.size() && fds[table] != fd) ++table;
      if (table == fds.size()) {
        error = fmt::format("function {} refers to map fd {}, which is none of its tables", function.name, fd);
        return std::nullopt;
      }
      function.relocations.push_back({slot, static_cast<uint32_t>(table)});
      std::memset(function.insns.data() + slot * 8 + 4, 0, 4);  // the fd means nothing outside this process
    }
    object.functions.push_back(std::move(function));
  }
  return object;
}

}  // namespace skbtrail
