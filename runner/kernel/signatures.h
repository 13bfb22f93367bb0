// The signatures of probed functions whose arguments moved between kernels,
// read from the kernel's own description rather than guessed from its
// version: its BTF (every function's prototype) or its header tree's
// declarations. Vendor and stable kernels change signatures mid-series
// (Debian's 6.12 took tcp_send_active_reset(sk, reason) from a later
// kernel), so the version alone would read the wrong register.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skbtrail {

// The functions measured, with the header that declares each.
struct ProbedSignature {
  const char* function;
  const char* header;  // relative to the tree's include/
};
const std::vector<ProbedSignature>& probed_signatures();

// How many arguments `function` takes in a BTF file; nullopt when it has
// no such function (inlined, or BTF of another kernel part).
std::optional<int> btf_function_arity(const std::filesystem::path& btf_file, std::string_view function);

// The same from a declaration in a header (`void name(a, b);`, possibly
// over several lines); nullopt when the header does not declare it.
std::optional<int> declared_function_arity(const std::filesystem::path& header, std::string_view function);

// Every probed signature of a kernel: from its BTF when btf_file is given,
// else from the header tree `tree` (a complete or merged tree). Functions
// not found are left out.
std::map<std::string, int> measure_function_arities(const std::filesystem::path& btf_file,
                                                     const std::filesystem::path& tree);

}  // namespace skbtrail
