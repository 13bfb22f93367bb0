#include "runner/kernel/facts.h"

#include "runner/kernel/signatures.h"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace skbtrail {

KernelFacts KernelFacts::running(KernelInfo kernel, HeaderChoice headers, std::shared_future<Kallsyms> kallsyms) {
  KernelFacts f;
  f.kernel_ = std::move(kernel);
  f.headers_ = std::move(headers);
  f.kallsyms_ = std::move(kallsyms);
  return f;
}

KernelFacts KernelFacts::assumed(KernelInfo kernel, HeaderChoice headers) {
  KernelFacts f;
  f.kernel_ = std::move(kernel);
  f.headers_ = std::move(headers);
  f.running_ = false;
  return f;
}

KernelFacts& KernelFacts::with_struct_layouts_of(abi::Kernel headers_kernel) {
  struct_layouts_ = headers_kernel;
  return *this;
}

KernelFacts& KernelFacts::with_tracepoint_dir(std::filesystem::path dir) {
  tracepoint_dir_ = std::move(dir);
  formats_->clear();
  return *this;
}

KernelFacts& KernelFacts::with_tracepoint_formats(const std::map<std::string, std::string>& texts) {
  tracepoint_texts_ = texts;
  formats_->clear();
  return *this;
}

namespace {
std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return in ? std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()) : std::string();
}
}  // namespace

std::string KernelFacts::assumed_format_text(const std::string& category, const std::string& event) const {
  if (const auto it = tracepoint_texts_.find(category + ":" + event); it != tracepoint_texts_.end()) return it->second;
  if (!tracepoint_dir_.empty()) return read_file(tracepoint_dir_ / category / event / "format");
  return abi::assumed_tracepoint_format(abi(), category, event);
}

const Kallsyms& KernelFacts::kallsyms() const {
  static const Kallsyms empty;
  return kallsyms_.valid() ? kallsyms_.get() : empty;
}

bool KernelFacts::has_function(std::string_view name) const {
  const Kallsyms& symbols = kallsyms();
  return symbols.size() == 0 || symbols.has_function(name);
}

bool KernelFacts::has_tracepoint(std::string_view category, std::string_view event) const {
  if (running_) return kernel_.has_tracepoint(category, event);
  return !assumed_format_text(std::string(category), std::string(event)).empty();
}

const TracepointFormat* KernelFacts::tracepoint_format(const std::string& category, const std::string& event) const {
  const std::string key = category + ":" + event;
  auto it = formats_->find(key);
  if (it == formats_->end()) {
    std::optional<TracepointFormat> format;
    if (running_) {
      if (kernel_.has_tracepoint(category, event))
        format = read_tracepoint_format(kernel_.tracepoint_format(category, event));
    } else if (const std::string text = assumed_format_text(category, event); !text.empty()) {
      format = parse_tracepoint_format(text);
    }
    it = formats_->emplace(key, std::move(format)).first;
  }
  return it->second ? &*it->second : nullptr;
}

bool KernelFacts::has_stack_maps() const {
  return features_probed() ? kernel_.features.stack_trace_maps && kernel_.features.get_stackid
                           : abi::has_stack_maps(abi());
}
bool KernelFacts::has_bpf_tracepoints() const {
  return features_probed() ? kernel_.features.tracepoint_programs : abi::has_bpf_tracepoints(abi());
}
bool KernelFacts::has_raw_tracepoints() const {
  return features_probed() ? kernel_.features.raw_tracepoint_programs : abi::has_raw_tracepoints(abi());
}
bool KernelFacts::has_lru_hash() const {
  return features_probed() ? kernel_.features.lru_hash_maps : abi::has_lru_hash(abi());
}
bool KernelFacts::has_percpu_arrays() const {
  return features_probed() ? kernel_.features.percpu_array_maps : abi::has_percpu_arrays(abi());
}
bool KernelFacts::has_probe_read_kernel() const {
  return features_probed() ? kernel_.features.probe_read_kernel : abi::has_probe_read_kernel(abi());
}
bool KernelFacts::has_probe_read_str() const {
  return features_probed() ? kernel_.features.probe_read_str : abi::has_probe_read_str(abi());
}

std::optional<int> KernelFacts::function_arity(std::string_view function) const {
  const std::string name(function);
  if (const auto it = kernel_.function_arity.find(name); it != kernel_.function_arity.end()) return it->second;
  auto cached = arities_->find(name);
  if (cached != arities_->end()) return cached->second;
  std::optional<int> arity;
  const auto sig = std::find_if(probed_signatures().begin(), probed_signatures().end(),
                                [&](const ProbedSignature& s) { return s.function == name; });
  if (sig != probed_signatures().end()) {
    if (headers_.btf && !kernel_.btf_path.empty()) {
      arity = btf_function_arity(kernel_.btf_path, name);
    } else {
      // The tree BCC compiles against; a split tree's declarations are in
      // its common half.
      const std::filesystem::path dir = !headers_.kernel_source.empty() ? headers_.kernel_source : kernel_.headers_dir;
      if (!dir.empty())
        if (const auto layout = header_tree_layout(dir))
          arity = declared_function_arity(layout->source / "include" / sig->header, name);
    }
  }
  arities_->emplace(name, arity);
  return arity;
}

std::map<std::string, int> KernelFacts::function_arities() const {
  std::map<std::string, int> out;
  for (const auto& sig : probed_signatures())
    if (const auto arity = function_arity(sig.function)) out[sig.function] = *arity;
  return out;
}

std::vector<std::string> KernelFacts::abi_cflags() const {
  std::vector<std::string> flags;
  if (has_probe_read_kernel()) flags.push_back("-DSKBTRAIL_HAVE_PROBE_READ_KERNEL=1");
  if (has_probe_read_str()) flags.push_back("-DSKBTRAIL_HAVE_PROBE_READ_STR=1");
  if (has_lru_hash()) flags.push_back("-DSKBTRAIL_HAVE_LRU_HASH=1");
  if (has_percpu_arrays()) flags.push_back("-DSKBTRAIL_HAVE_PERCPU_ARRAY=1");
  // Not probed: a verifier rule, not a helper or map type.
  if (!abi::helpers_take_map_values(abi())) flags.push_back("-DSKBTRAIL_MAP_VALUES_TO_STACK=1");
  if (!headers_.btf)
    for (auto& flag : abi::bcc_uapi_cflags(abi())) flags.push_back(std::move(flag));
  return flags;
}

std::shared_future<Kallsyms> load_kallsyms_async() {
  return std::async(std::launch::async, [] {
           try {
             return Kallsyms::load();
           } catch (const std::exception&) {
             return Kallsyms();
           }
         }).share();
}

std::shared_future<Kallsyms> ready_kallsyms(Kallsyms kallsyms) {
  std::promise<Kallsyms> ready;
  ready.set_value(std::move(kallsyms));
  return ready.get_future().share();
}

}  // namespace skbtrail
