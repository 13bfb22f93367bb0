// /proc/kallsyms lines (a copy can be given for another machine's stacks):
// parsed, then asked what drop locations and probe targets ask.
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>

#include "runner/kernel/kallsyms.h"
#include "tests/fuzz/fuzz_input.h"

using namespace skbtrail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(fuzz::text_of(data, size));
  fuzz::accept_or_refuse([&] {
    std::istringstream in(text);
    const Kallsyms symbols = Kallsyms::parse(in);
    uint64_t probe = 0;
    std::memcpy(&probe, data, std::min(size, sizeof(probe)));
    for (const uint64_t address : {uint64_t{0}, probe, ~uint64_t{0}, uint64_t{0xffffffff81000000}}) {
      if (const auto hit = symbols.lookup(address)) fuzz::require(!hit->name.empty(), "a symbol without a name");
      (void)symbols.describe(address);
    }
    (void)symbols.has_function("tcp_v4_rcv");
    (void)symbols.address_of("_text");
  });
  return 0;
}
