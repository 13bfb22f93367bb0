// What `skbtrail exec` prints of a user program's perf samples: the table
// and the bytes in hex (the program's own layout is unknown to us).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "runner/output/output.h"

namespace skbtrail {

struct ExecSampleRecord {
  std::string_view table;
  std::span<const uint8_t> bytes;
};
inline std::string_view json_type(const ExecSampleRecord&) { return "sample"; }
void write_text(Output& out, const ExecSampleRecord& record);
void write_json(JsonLine& line, const ExecSampleRecord& record);

}  // namespace skbtrail
