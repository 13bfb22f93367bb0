// Parser for tracefs event "format" files: the field layout and the
// __print_symbolic() tables that name enum values (drop reasons, TCP
// states, RST reasons). Names are read at run time, never hard-coded, so a
// kernel that adds or renumbers reasons is printed correctly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace skbtrail {

struct TracepointField {
  std::string type;  // "enum skb_drop_reason", "__u8"
  std::string name;  // "reason", "saddr" (array suffix removed)
  int array_length = 0;  // 28 for "__u8 saddr[28]", 0 for scalars
  int offset = 0;
  int size = 0;
  bool is_signed = false;
};

// One __print_symbolic(REC->field, { value, "NAME" }, ...) of the print fmt.
struct SymbolicTable {
  std::string field;
  std::vector<std::pair<std::string, std::string>> entries;  // value token -> name
};

struct TracepointFormat {
  std::string name;
  uint32_t id = 0;
  std::vector<TracepointField> fields;  // common_* fields included
  std::string print_fmt;
  std::string text;  // the format file as read
  std::vector<SymbolicTable> symbolic;

  const TracepointField* field(std::string_view field_name) const;
  const SymbolicTable* symbolic_for(std::string_view field_name) const;
};

// Throws std::runtime_error with the offending line on malformed input.
TracepointFormat parse_tracepoint_format(std::string_view text);
TracepointFormat read_tracepoint_format(const std::filesystem::path& path);

// The C struct a BPF program reads a tracepoint's arguments through, laid
// out from this format, with only `fields` (those the program reads; the
// ones this kernel lacks are left out) and padding between them:
//   struct NAME { unsigned char __pad_0[8]; unsigned long long skbaddr; ... unsigned int reason; };
// plus a _Static_assert per field on its offset. Our programs use these
// instead of BCC's TRACEPOINT_PROBE, which lays the struct out from the
// tracefs of the machine that compiles: a program built for another
// kernel (a bundle) needs that kernel's layout, and a program run from a
// bundle is checked against the running kernel's (same text = same layout).
std::string tracepoint_struct(const TracepointFormat& format, const std::string& name,
                              const std::vector<std::string>& fields);

// Resolves a value token that is not a number (e.g. "TCP_ESTABLISHED",
// left symbolic by kernels without TRACE_DEFINE_ENUM) to its value.
using EnumResolver = std::function<std::optional<int64_t>(std::string_view)>;

// value -> name for one field. Tokens neither numeric nor resolvable are
// skipped; unknown values print as numbers via name_or_number().
class ValueNames {
 public:
  ValueNames() = default;
  ValueNames(const SymbolicTable& table, const EnumResolver& resolve = {});
  std::optional<std::string_view> name(int64_t value) const;
  std::string name_or_number(int64_t value) const;
  size_t size() const { return names_.size(); }

 private:
  std::unordered_map<int64_t, std::string> names_;
};

}  // namespace skbtrail
