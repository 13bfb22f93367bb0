#include "runner/tools/exec/exec_record.h"

#include <iterator>

#include <fmt/format.h>

namespace skbtrail {

void write_text(Output& out, const ExecSampleRecord& r) {
  auto text = std::back_inserter(out.text());
  fmt::format_to(text, "{}:", r.table);
  for (const uint8_t byte : r.bytes) fmt::format_to(text, " {:02x}", byte);
  out.text() += '\n';
}

void write_json(JsonLine& line, const ExecSampleRecord& r) {
  line.str("table", r.table).unescaped("hex", [&](std::string& out) {
    for (const uint8_t byte : r.bytes) fmt::format_to(std::back_inserter(out), "{:02x}", byte);
  });
}

}  // namespace skbtrail
