#include "runner/kernel/facts.h"

#include "runner/kernel/abi.h"

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
  return abi::assumed_tracepoint_format(version(), category, event);
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

bool KernelFacts::has_stack_maps() const { return abi::has_stack_maps(version()); }
bool KernelFacts::has_bpf_tracepoints() const { return abi::has_bpf_tracepoints(version()); }
bool KernelFacts::has_raw_tracepoints() const { return abi::has_raw_tracepoints(version()); }

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
