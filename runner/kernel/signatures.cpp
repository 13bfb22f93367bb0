#include "runner/kernel/signatures.h"

#include <bpf/btf.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

namespace skbtrail {

namespace fs = std::filesystem;

const std::vector<ProbedSignature>& probed_signatures() {
  static const std::vector<ProbedSignature> list = {{"tcp_send_active_reset", "net/tcp.h"}};
  return list;
}

std::optional<int> btf_function_arity(const fs::path& btf_file, std::string_view function) {
  std::unique_ptr<btf, decltype(&btf__free)> types(btf__parse(btf_file.c_str(), nullptr), btf__free);
  if (!types) return std::nullopt;
  const std::string name(function);
  const int id = btf__find_by_name_kind(types.get(), name.c_str(), BTF_KIND_FUNC);
  if (id <= 0) return std::nullopt;
  const btf_type* proto = btf__type_by_id(types.get(), btf__type_by_id(types.get(), id)->type);
  if (!proto || !btf_is_func_proto(proto)) return std::nullopt;
  return static_cast<int>(btf_vlen(proto));
}

std::optional<int> declared_function_arity(const fs::path& header, std::string_view function) {
  std::ifstream in(header);
  if (!in) return std::nullopt;
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const std::string call = std::string(function) + "(";
  for (size_t at = text.find(call); at != std::string::npos; at = text.find(call, at + 1)) {
    // The name itself, not the tail of a longer one (__tcp_send_active_reset).
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '_')) continue;
    // A declaration has a return type before it on its line, no '=' or '('.
    const size_t line_start = text.rfind('\n', at) + 1;
    const std::string before = text.substr(line_start, at - line_start);
    if (before.find_first_of("=(;") != std::string::npos || before.find_first_not_of(" \t*") == std::string::npos)
      continue;
    int depth = 0, commas = 0;
    bool any = false;
    for (size_t i = at + call.size() - 1; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '(') ++depth;
      else if (c == ')' && --depth == 0) {
        const bool is_void = text.substr(at + call.size(), i - at - call.size()) == "void";
        return any && !is_void ? commas + 1 : 0;
      } else if (c == ',' && depth == 1) {
        ++commas;
      } else if (depth == 1 && !std::isspace(static_cast<unsigned char>(c))) {
        any = true;
      }
    }
  }
  return std::nullopt;
}

std::map<std::string, int> measure_function_arities(const fs::path& btf_file, const fs::path& tree) {
  std::map<std::string, int> out;
  for (const auto& sig : probed_signatures()) {
    const auto arity = !btf_file.empty() ? btf_function_arity(btf_file, sig.function)
                                          : declared_function_arity(tree / "include" / sig.header, sig.function);
    if (arity) out[sig.function] = *arity;
  }
  return out;
}

}  // namespace skbtrail
