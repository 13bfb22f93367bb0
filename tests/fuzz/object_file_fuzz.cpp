// Compile cache entries and bundles (skbtrail bundle -o FILE, --bundle
// FILE): files that travel between machines. Inputs that do not start
// like an object file are framed as one (magic, format, checksum), so the
// fuzzer reaches the payload's parser past the checksum; then what loading
// reads before the kernel sees anything: map references, late constants, a
// bundle's target and tracepoint formats.
#include <cstdint>
#include <string>

#include "runner/bpf/object.h"
#include "runner/session/bundle.h"
#include "tests/fuzz/fuzz_input.h"

using namespace skbtrail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = fuzz::text_of(data, size);
  const std::string bytes = input.starts_with("skbtrail-object") ? std::string(input) : frame_object_payload(input);
  fuzz::accept_or_refuse([&] {
    const ObjectFile file = parse_object_file(bytes);
    for (const auto& function : file.object.functions) {
      for (const auto& [slot, fd] : map_fd_loads(function.insns))
        fuzz::require((slot + 2) * size_t{8} <= function.insns.size(), "a map load past the end");
      for (const auto slot : immediate_uses(function.insns, 0x5ca1ab1e))
        fuzz::require((slot + 1) * size_t{8} <= function.insns.size(), "a constant past the end");
      // The loader writes map fds and constants at these places.
      for (const auto& rel : function.relocations)
        fuzz::require((rel.insn + size_t{2}) * 8 <= function.insns.size() && rel.table < file.object.tables.size(),
                      "a map reference outside its function");
      for (const auto& use : function.constants)
        fuzz::require((use.insn + size_t{1}) * 8 <= function.insns.size(), "a constant outside its function");
    }
  });
  fuzz::accept_or_refuse(
      [&] {
        const Bundle bundle = parse_bundle(bytes, "fuzz.bundle");
        const KernelFacts facts = bundle_facts(bundle);
        (void)facts.version();
        for (const auto& [name, text] : bundle.tracepoint_formats) {
          const auto colon = name.find(':');
          if (colon != std::string::npos) (void)facts.tracepoint_format(name.substr(0, colon), name.substr(colon + 1));
        }
      },
      "fuzz.bundle");
  return 0;
}
