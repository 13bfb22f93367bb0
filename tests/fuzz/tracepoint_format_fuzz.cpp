// Tracepoint format files (tracefs events/CAT/EVENT/format, and the copies a
// bundle carries): parsed, laid out as the C struct the programs read, and
// their __print_symbolic tables turned into value names.
#include <cstdint>
#include <string>
#include <vector>

#include "runner/kernel/tracepoint_format.h"
#include "tests/fuzz/fuzz_input.h"

using namespace skbtrail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::accept_or_refuse([&] {
    const TracepointFormat format = parse_tracepoint_format(fuzz::text_of(data, size));
    std::vector<std::string> fields;
    for (const auto& field : format.fields) fields.push_back(field.name);
    fields.push_back("not_in_the_format");
    (void)tracepoint_struct(format, "fuzz_args", fields);
    for (const auto& table : format.symbolic) {
      const ValueNames names(table, [](std::string_view token) -> std::optional<int64_t> {
        if (token == "TCP_ESTABLISHED") return 1;
        return std::nullopt;
      });
      (void)names.name_or_number(1);
      (void)names.name_or_number(-1);
    }
  });
  return 0;
}
