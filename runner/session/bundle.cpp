#include "runner/session/bundle.h"

#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "runner/common/errors.h"
#include "runner/session/compile_cache.h"

namespace skbtrail {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kTracepointPrefix = "tracepoint ";
constexpr std::string_view kArityPrefix = "arity ";

uint32_t number(const std::map<std::string, std::string>& meta, const char* key) {
  uint32_t value = 0;
  if (const auto it = meta.find(key); it != meta.end())
    std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  return value;
}

}  // namespace

Bundle read_bundle(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("--bundle '{}': cannot read it (check the path)", path.string()));
  try {
    require_private(path, "bundle");
  } catch (const EnvironmentError& e) {
    throw UsageError(e.what());
  }
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return parse_bundle(bytes, path.string());
}

Bundle parse_bundle(std::string_view bytes, const std::string& path) {
  ObjectFile file;
  try {
    file = parse_object_file(bytes);
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("--bundle '{}': {} (build it again with skbtrail bundle)", path, e.what()));
  }
  auto& meta = file.meta;
  if (meta["kind"] != "bundle")
    throw UsageError(
        fmt::format("--bundle '{}': a compile cache entry, not a bundle (make one with skbtrail bundle)", path));
  Bundle b;
  b.path = path;
  b.command = meta["command"];
  b.options = meta["options"];
  b.release = meta["release"];
  b.fingerprint = meta["fingerprint"];
  b.target.release = b.release;
  b.target.version_code = number(meta, "version_code");
  // RHEL 7's backports decide ABI branches as much as the version does.
  b.target.rhel_major = static_cast<int>(number(meta, "rhel_major"));
  b.target.has_kprobes = meta["kprobes"] == "yes";
  b.headers.mode = meta["headers"];
  b.headers.btf = meta["btf"] == "yes";
  b.headers.description = fmt::format("none needed: bundle {} (built with {} headers)", b.path, b.headers.mode);
  for (const auto& [key, value] : meta) {
    if (key.starts_with(kTracepointPrefix)) b.tracepoint_formats[key.substr(kTracepointPrefix.size())] = value;
    if (key.starts_with(kArityPrefix))
      b.target.function_arity[key.substr(kArityPrefix.size())] = static_cast<int>(number(meta, key.c_str()));
  }
  b.object = std::move(file.object);
  return b;
}

void write_bundle(const fs::path& path, const Plan& plan, const KernelFacts& target, const std::string& options,
                  const BpfObject& object) {
  ObjectFile file;
  auto& meta = file.meta;
  meta["kind"] = "bundle";
  meta["skbtrail"] = SKBTRAIL_VERSION;
  meta["command"] = plan.command;
  meta["options"] = options;
  meta["release"] = target.kernel().release;
  meta["version_code"] = std::to_string(target.version());
  meta["rhel_major"] = std::to_string(target.kernel().rhel_major);
  // What the compile read from the tree's prototypes, for planning it again there.
  for (const auto& [function, arity] : target.function_arities())
    meta[std::string(kArityPrefix) + function] = std::to_string(arity);
  meta["kprobes"] = target.has_kprobes() ? "yes" : "no";
  meta["headers"] = target.headers().mode;
  meta["btf"] = target.headers().btf ? "yes" : "no";
  meta["fingerprint"] = plan_fingerprint(plan);
  for (const auto& [name, use] : plan.tracepoints) meta[std::string(kTracepointPrefix) + name] = use.format;
  file.object = object;
  const std::string bytes = serialize_object_file(file);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw UsageError(fmt::format("-o '{}': cannot write the bundle there", path.string()));
  out.close();
  ::chmod(path.c_str(), 0600);
}

KernelFacts bundle_facts(const Bundle& b) {
  KernelFacts facts = KernelFacts::assumed(b.target, b.headers);
  facts.with_tracepoint_formats(b.tracepoint_formats);
  return facts;
}

void check_bundle_fits(const Bundle& b, const std::string& command, const std::string& options, const Plan& plan,
                       const KernelFacts& running) {
  const std::string file = fs::path(b.path).filename().string();
  if (b.command != command)
    throw EnvironmentError(fmt::format("bundle {} is for 'skbtrail {}', not 'skbtrail {}'", file, b.command, command));
  if (b.release != running.kernel().release)
    throw EnvironmentError(fmt::format("bundle {} was built for kernel {}, this one is {}: build one for it "
                                       "(skbtrail bundle {} ... --kernel-headers DIR --kernel-release {})",
                                       file, b.release, running.kernel().release, command, running.kernel().release));
  if (plan_fingerprint(plan) != b.fingerprint)
    throw EnvironmentError(fmt::format("bundle {} was built for 'skbtrail {} {}', this run asks for 'skbtrail {} {}': "
                                       "options that change the program must match (build another bundle)",
                                       file, command, b.options, command, options));
  for (const auto& [name, use] : plan.tracepoints) {
    const auto colon = name.find(':');
    const std::string category = name.substr(0, colon), event = name.substr(colon + 1);
    const TracepointFormat* here = running.tracepoint_format(category, event);
    const std::string layout =
        here ? tracepoint_struct(*here, tracepoint_struct_name(category, event), use.fields) : std::string();
    if (layout != use.layout)
      throw EnvironmentError(fmt::format("bundle {} reads tracepoint {} as the kernel it was built for lays it out; "
                                         "this kernel's differs{}: build the bundle with this machine's formats "
                                         "(skbtrail bundle ... --tracepoint-formats DIR, a copy of {}/events)",
                                         file, name, here ? "" : " (it has no such tracepoint)",
                                         running.kernel().tracefs.string()));
  }
}

}  // namespace skbtrail
