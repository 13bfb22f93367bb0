#include "runner/compat_check.h"

#include <bcc/bpf_module.h>
#include <linux/bpf.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "programs/bundled.h"
#include "runner/bpf_program.h"
#include "runner/drop.h"
#include "runner/errors.h"
#include "runner/exec.h"
#include "runner/kallsyms.h"
#include "runner/kernel_info.h"
#include "runner/probe_list.h"
#include "runner/rst.h"
#include "runner/session.h"
#include "runner/trace.h"
#include "runner/tracepoint_format.h"

namespace skbtrail {

namespace {

// Instruction encoding (include/uapi/linux/bpf_common.h, bpf.h): stable ABI.
constexpr uint8_t kClassMask = 0x07;
constexpr uint8_t kClassLd = 0x00, kClassLdx = 0x01, kClassSt = 0x02, kClassStx = 0x03, kClassJmp = 0x05,
                  kClassJmp32 = 0x06, kClassAlu64 = 0x07;
constexpr uint8_t kOpMask = 0xf0;
constexpr uint8_t kOpCall = 0x80, kOpExit = 0x90, kOpMov = 0xb0, kOpAdd = 0x00;
constexpr uint8_t kSourceReg = 0x08;       // BPF_X
constexpr uint8_t kLoadImm64 = 0x18;       // BPF_LD | BPF_IMM | BPF_DW
constexpr uint8_t kPseudoCall = 1;         // src_reg of a bpf-to-bpf call
constexpr uint8_t kPseudoMapValue = 2;     // src_reg of a global-data load
constexpr uint8_t kPseudoMapIdxValue = 6;
constexpr int kFramePointer = 10;

struct Insn {
  uint8_t code;
  uint8_t dst;
  uint8_t src;
  int16_t off;
  int32_t imm;
};

Insn decode(const uint8_t* p) {
  Insn i{};
  i.code = p[0];
  i.dst = p[1] & 0x0f;
  i.src = p[1] >> 4;
  std::memcpy(&i.off, p + 2, 2);
  std::memcpy(&i.imm, p + 4, 4);
  return i;
}

// The mapper puts the commas itself: FN(unspec), FN(map_lookup_elem), ...
#define SKBTRAIL_HELPER_NAME(name, ...) #name
constexpr const char* kHelperNames[] = {__BPF_FUNC_MAPPER(SKBTRAIL_HELPER_NAME)};
#undef SKBTRAIL_HELPER_NAME

std::vector<std::string> words_of(std::string_view line) {
  std::istringstream in{std::string(line)};
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

}  // namespace

BytecodeFacts analyze_bytecode(std::span<const uint8_t> bytes) {
  BytecodeFacts f;
  const size_t count = bytes.size() / 8;
  f.instructions = count;
  // Offsets from the frame pointer held in registers (r1 = r10; r1 += -16):
  // how BPF code addresses its stack for helper arguments.
  std::optional<int64_t> fp_offset[11];
  fp_offset[kFramePointer] = 0;
  int64_t deepest = 0;
  auto touch = [&](int reg, int16_t off) {
    if (reg >= 0 && reg <= kFramePointer && fp_offset[reg]) deepest = std::min<int64_t>(deepest, *fp_offset[reg] + off);
  };
  for (size_t n = 0; n < count; ++n) {
    const Insn i = decode(bytes.data() + n * 8);
    const uint8_t cls = i.code & kClassMask;
    if (i.code == kLoadImm64) {
      if (i.src == kPseudoMapValue || i.src == kPseudoMapIdxValue) f.global_data = true;
      if (i.dst < kFramePointer) fp_offset[i.dst].reset();
      ++n;  // the second half of the 16-byte instruction
      continue;
    }
    switch (cls) {
      case kClassJmp:
      case kClassJmp32: {
        if (cls == kClassJmp32) f.jmp32 = true;
        const uint8_t op = i.code & kOpMask;
        if (op == kOpCall) {
          if (i.src == kPseudoCall) f.bpf_to_bpf_calls = true;
          else if (i.src == 0) f.helpers.insert(i.imm);
          for (int r = 0; r <= 5; ++r) fp_offset[r].reset();  // caller-saved
        } else if (op != kOpExit && i.off < 0) {
          f.backward_jumps = true;
        }
        break;
      }
      case kClassStx:
      case kClassSt: touch(i.dst, i.off); break;
      case kClassLdx:
        touch(i.src, i.off);
        if (i.dst < kFramePointer) fp_offset[i.dst].reset();
        break;
      case kClassLd: break;
      default: {  // ALU, ALU64: track r = r10 and r += imm, forget anything else
        if (i.dst >= kFramePointer) break;
        const uint8_t op = i.code & kOpMask;
        if (cls == kClassAlu64 && op == kOpMov && (i.code & kSourceReg) && i.src <= kFramePointer)
          fp_offset[i.dst] = fp_offset[i.src];
        else if (cls == kClassAlu64 && op == kOpAdd && !(i.code & kSourceReg) && fp_offset[i.dst])
          *fp_offset[i.dst] += i.imm;
        else
          fp_offset[i.dst].reset();
      }
    }
  }
  f.stack_bytes = static_cast<int>(-deepest);
  return f;
}

std::string helper_name(int32_t id) {
  if (id >= 0 && static_cast<size_t>(id) < std::size(kHelperNames)) return kHelperNames[id];
  return fmt::format("helper#{}", id);
}

std::string map_type_name(int type) {
  // enum bpf_map_type values (uapi, append-only).
  static constexpr const char* kNames[] = {"unspec",         "hash",          "array",           "prog_array",
                                           "perf_event_array", "percpu_hash", "percpu_array",    "stack_trace",
                                           "cgroup_array",   "lru_hash",      "lru_percpu_hash", "lpm_trie",
                                           "array_of_maps",  "hash_of_maps",  "devmap",          "sockmap",
                                           "cpumap",         "xskmap",        "sockhash",        "cgroup_storage",
                                           "reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack",
                                           "sk_storage",     "devmap_hash",   "struct_ops",      "ringbuf"};
  if (type >= 0 && static_cast<size_t>(type) < std::size(kNames)) return kNames[type];
  return fmt::format("type {}", type);
}

std::optional<uint32_t> parse_kernel_version(std::string_view text) {
  // X.Y or X.Y.Z, digits only.
  uint32_t parts[3] = {0, 0, 0};
  size_t count = 0;
  while (count < 3) {
    const auto dot = text.find('.');
    const std::string_view part = text.substr(0, dot);
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), parts[count]);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size()) return std::nullopt;
    ++count;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
    if (count == 3) return std::nullopt;  // a fourth part
  }
  if (count < 2 || parts[0] < 2 || parts[0] > 9 || parts[1] > 255) return std::nullopt;
  return kernel_version(parts[0], parts[1], parts[2]);
}

std::string version_text(uint32_t code) { return fmt::format("{}.{}", code >> 16, (code >> 8) & 0xff); }

CompatTable CompatTable::parse(std::string_view text, const std::string& source) {
  CompatTable t;
  std::istringstream in{std::string(text)};
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    const auto w = words_of(line);
    if (w.empty()) continue;
    auto fail = [&](const std::string& what) { return UsageError(fmt::format("{}:{}: {}", source, line_no, what)); };
    auto version = [&](const std::string& v) {
      const auto code = parse_kernel_version(v);
      if (!code) throw fail(fmt::format("'{}' is not a kernel version (X.Y)", v));
      return *code;
    };
    const std::string& kind = w[0];
    if (kind == "helper" || kind == "map" || kind == "prog" || kind == "feature") {
      if (w.size() != 3) throw fail(fmt::format("'{}' takes a name and a version", kind));
      auto& into = kind == "helper" ? t.helpers_ : kind == "map" ? t.maps_ : kind == "prog" ? t.progs_ : t.features_;
      into[w[1]] = version(w[2]);
    } else if (kind == "limit") {
      if (w.size() != 4 || w[1] != "insns") throw fail("use: limit insns VERSION COUNT");
      t.insn_limits_[version(w[2])] = std::stoul(w[3]);
    } else if (kind == "backport") {
      if (w.size() < 5) throw fail("use: backport NAME BASE prog|map|helper WHAT...");
      auto& b = t.backports_[w[1]];
      b.base = version(w[2]);
      auto& into = w[3] == "prog" ? b.progs : w[3] == "map" ? b.maps : w[3] == "helper" ? b.helpers : b.progs;
      if (w[3] != "prog" && w[3] != "map" && w[3] != "helper") throw fail("backport lists prog, map or helper");
      into.insert(w.begin() + 4, w.end());
    } else {
      throw fail(fmt::format("unknown line kind '{}' (helper, map, prog, feature, limit, backport)", kind));
    }
  }
  if (t.insn_limits_.empty()) throw UsageError(fmt::format("{}: no 'limit insns' line", source));
  return t;
}

const CompatTable& CompatTable::bundled() {
  static const CompatTable table = parse(programs::bundled_text("bpf-compat.data"), "scripts/bpf-compat.data");
  return table;
}

namespace {
std::optional<uint32_t> find_in(const std::map<std::string, uint32_t>& m, const std::string& key) {
  const auto it = m.find(key);
  if (it == m.end()) return std::nullopt;
  return it->second;
}
}  // namespace

std::optional<uint32_t> CompatTable::helper_since(const std::string& n) const { return find_in(helpers_, n); }
std::optional<uint32_t> CompatTable::map_since(const std::string& n) const { return find_in(maps_, n); }
std::optional<uint32_t> CompatTable::prog_since(const std::string& n) const { return find_in(progs_, n); }
std::optional<uint32_t> CompatTable::feature_since(const std::string& n) const { return find_in(features_, n); }

size_t CompatTable::instruction_limit(uint32_t version) const {
  size_t limit = insn_limits_.begin()->second;
  for (const auto& [from, count] : insn_limits_)
    if (version >= from) limit = count;
  return limit;
}

const CompatTable::Backport* CompatTable::backport(const std::string& name) const {
  const auto it = backports_.find(name);
  return it == backports_.end() ? nullptr : &it->second;
}

std::vector<std::string> default_check_kernels() { return {"3.10", "4.4", "4.9", "4.14", "4.19", "5.4"}; }

CompatTarget parse_compat_target(std::string_view text) {
  const auto code = parse_kernel_version(text);
  if (!code)
    throw UsageError(fmt::format("--kernel '{}': give a kernel version as X.Y (e.g. --kernel 4.9; 3.10 means RHEL 7.6+)",
                                 text));
  CompatTarget t{std::string(text), *code, ""};
  if ((*code >> 8) == ((3u << 8) | 10u)) t.backport = "rhel7";
  else if (*code < kernel_version(4, 1, 0))
    throw UsageError(fmt::format("--kernel {}: mainline kernels before 4.1 cannot attach BPF to kprobes; the only "
                                 "older ones that can are RHEL 7's 3.10 (--kernel 3.10)",
                                 text));
  return t;
}

std::vector<std::string> map_problems(const std::vector<std::string>& map_types, const CompatTarget& target,
                                      const CompatTable& table) {
  std::vector<std::string> problems;
  const CompatTable::Backport* backport = target.backport.empty() ? nullptr : table.backport(target.backport);
  for (const auto& type : map_types) {
    if (backport) {
      if (!backport->maps.contains(type))
        problems.push_back(fmt::format("map type {} is not in the {} backport", type, target.backport));
      continue;
    }
    const auto since = table.map_since(type);
    if (!since) problems.push_back(fmt::format("map type {} has no entry in scripts/bpf-compat.data", type));
    else if (*since > target.version)
      problems.push_back(fmt::format("map type {} needs {}, not on {}", type, version_text(*since), target.name));
  }
  return problems;
}

std::vector<std::string> compat_problems(const CheckedFunction& fn, const CompatTarget& target,
                                         const CompatTable& table) {
  std::vector<std::string> problems;
  const CompatTable::Backport* backport = target.backport.empty() ? nullptr : table.backport(target.backport);
  const uint32_t v = target.version;
  const std::string where = target.backport.empty() ? target.name : fmt::format("{} ({})", target.name, target.backport);
  auto too_new = [&](const std::string& what, std::optional<uint32_t> since) {
    if (!since) return fmt::format("{} has no entry in scripts/bpf-compat.data (add its first kernel version)", what);
    return fmt::format("{} needs {}, not on {}", what, version_text(*since), where);
  };
  // Program type.
  if (backport) {
    if (!backport->progs.contains(fn.prog_type))
      problems.push_back(fmt::format("{} programs are not in the {} backport", fn.prog_type, target.backport));
  } else if (const auto since = table.prog_since(fn.prog_type); !since || *since > v) {
    problems.push_back(too_new("the " + fn.prog_type + " program type", since));
  }
  // Helpers.
  for (const int32_t id : fn.facts.helpers) {
    const std::string name = helper_name(id);
    if (backport) {
      if (!backport->helpers.contains(name))
        problems.push_back(fmt::format("helper bpf_{} ({}) is not in the {} backport", name, id, target.backport));
      continue;
    }
    const auto since = table.helper_since(name);
    if (!since || *since > v) problems.push_back(too_new(fmt::format("helper bpf_{} ({})", name, id), since));
  }
  // Verifier features.
  auto feature = [&](bool used, const char* name, const char* what) {
    const auto since = table.feature_since(name);
    if (used && (!since || *since > v)) problems.push_back(too_new(what, since));
  };
  feature(fn.facts.bpf_to_bpf_calls, "bpf-to-bpf-calls", "a bpf-to-bpf call (a function not inlined)");
  feature(fn.facts.backward_jumps, "bounded-loops", "a backward jump (a loop)");
  feature(fn.facts.global_data, "global-data", "global data (.data/.rodata/.bss)");
  feature(fn.facts.jmp32, "jmp32", "jmp32 instructions (LLVM -mcpu=v3)");
  const size_t limit = table.instruction_limit(backport ? backport->base : v);
  if (fn.facts.instructions > limit)
    problems.push_back(fmt::format("{} instructions, over the {} limit of {}", fn.facts.instructions, limit, where));
  if (fn.facts.stack_bytes > 512)
    problems.push_back(fmt::format("{} bytes of stack, over the 512-byte limit", fn.facts.stack_bytes));
  return problems;
}

namespace {

// One compile of one program the way the runner would configure it.
struct CheckConfig {
  std::string label;    // "drop.bpf.c (--diag --stack)"
  std::string program;  // bundled name or a file path
  std::string source;
  std::vector<std::string> cflags;
  std::map<std::string, std::string> prog_types;  // function -> prog type, from the probe specs
  std::set<std::string> skip;                      // functions compiled in but never loaded on this kernel
};

std::string prog_type_of(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::Kprobe:
    case ProbeKind::Kretprobe: return "kprobe";
    case ProbeKind::Tracepoint: return "tracepoint";
    case ProbeKind::RawTracepoint: return "raw_tracepoint";
  }
  return "kprobe";
}

void add_kinds(CheckConfig& c, const std::vector<ProbeSpec>& specs) {
  for (const auto& spec : specs)
    for (const auto& choice : spec.choices) c.prog_types.emplace(choice.handler, prog_type_of(choice.kind));
}

// BCC's auto-attach prefixes, for functions no probe spec names.
std::string prog_type_from_name(const std::string& fn) {
  if (fn.starts_with("tracepoint__")) return "tracepoint";
  if (fn.starts_with("raw_tracepoint__")) return "raw_tracepoint";
  if (fn.starts_with("kfunc__") || fn.starts_with("kretfunc__")) return "kfunc";
  return "kprobe";
}

TracepointFormat kfree_skb_format(bool with_reason) {
  std::string text =
      "field:void * skbaddr;\toffset:8;\tsize:8;\tsigned:0;\n"
      "field:void * location;\toffset:16;\tsize:8;\tsigned:0;\n"
      "field:unsigned short protocol;\toffset:24;\tsize:2;\tsigned:0;\n";
  if (with_reason) text += "field:enum skb_drop_reason reason;\toffset:28;\tsize:4;\tsigned:0;\n";
  return parse_tracepoint_format(text);
}

// The configurations the runner would compile on `kernel`, largest options on.
std::vector<CheckConfig> bundled_configs(const KernelInfo& kernel) {
  std::vector<CheckConfig> configs;
  const bool kprobes = kernel.has_kprobes;
  const bool has_reason = kernel.version_code >= kernel_version(5, 17, 0);
  const bool stacks = has_bpf_stack_maps(kernel);  // the runner refuses stack options without them
  {
    CheckConfig c{"drop.bpf.c", "drop.bpf.c", programs::expand_program("drop.bpf.c"), {}, {}, {}};
    DropOptions plain;
    plain.kfree_kprobe = !has_bpf_tracepoints(kernel) && kprobes;
    c.cflags = drop_program_cflags(plain, kfree_skb_format(has_reason));
    add_kinds(c, drop_probes(plain.kfree_kprobe));
    // Kernels without BPF on tracepoints load only the kprobe handler.
    if (plain.kfree_kprobe) c.skip.insert("tracepoint__skb__kfree_skb");
    configs.push_back(c);
    DropOptions diag = plain;
    diag.nf_context = kprobes;
    diag.stack = stacks;
    c.label = stacks ? "drop.bpf.c --diag --stack" : "drop.bpf.c --diag";
    c.cflags = drop_program_cflags(diag, kfree_skb_format(has_reason));
    c.prog_types.emplace("skbtrail_nf_hook_slow_enter", "kprobe");
    c.prog_types.emplace("skbtrail_nf_hook_slow_return", "kprobe");
    configs.push_back(c);
  }
  {
    RstOptions options;
    CheckConfig c{"rst.bpf.c", "rst.bpf.c", programs::expand_program("rst.bpf.c"), {}, {}, {}};
    // Where kprobes exist the tracepoint fallbacks are not compiled in.
    c.cflags = rst_program_cflags(options, kernel, nullptr, !kprobes, !kprobes, kprobes);
    add_kinds(c, rst_probes(true, kprobes));
    c.prog_types.emplace("tracepoint__tcp__tcp_send_reset", "tracepoint");
    configs.push_back(c);
  }
  {
    TraceOptions options;
    options.hops = HopSelection::everything();
    options.keep = true;
    options.callstack = stacks;
    const TracePlan plan = plan_trace(default_probe_list(), options.hops, kernel, Kallsyms());
    CheckConfig c{stacks ? "trace.bpf.c --iptable --keep --callstack" : "trace.bpf.c --iptable --keep", "trace.bpf.c",
                  programs::expand_program("trace.bpf.c") + trace_handlers(plan), {}, {}, {}};
    c.cflags = trace_program_cflags(options, plan, kernel, has_reason);
    add_kinds(c, trace_probe_specs(plan));
    configs.push_back(c);
  }
  return configs;
}

struct CompiledProgram {
  std::vector<CheckedFunction> functions;
  std::vector<std::string> map_types;
};

CompiledProgram compile_for_check(const CheckConfig& config, const HeaderChoice& headers, uint32_t version) {
  export_for_bcc(headers);
  std::vector<std::string> flags = header_cflags(headers);
  flags.insert(flags.end(), config.cflags.begin(), config.cflags.end());
  // Helpers follow the kernel checked; struct layouts follow the headers here.
  flags.push_back(fmt::format("-DSKBTRAIL_KERNEL_VERSION={}", version));
  std::vector<const char*> argv;
  for (const auto& f : flags) argv.push_back(f.c_str());
  ebpf::BPFModule module(0);
  StderrCapture capture;
  const int rc = module.load_string(config.source, argv.data(), static_cast<int>(argv.size()));
  const std::string diagnostics = capture.finish();
  if (rc != 0)
    throw std::runtime_error(
        fmt::format("check: compiling {} with BCC (header mode {}) failed:\n{}", config.label, headers.mode, diagnostics));
  CompiledProgram out;
  for (size_t i = 0; i < module.num_functions(); ++i) {
    CheckedFunction fn;
    fn.function = module.function_name(i);
    if (config.skip.contains(fn.function)) continue;
    const auto it = config.prog_types.find(fn.function);
    fn.prog_type = it != config.prog_types.end() ? it->second : prog_type_from_name(fn.function);
    fn.facts = analyze_bytecode({module.function_start(i), module.function_size(i)});
    out.functions.push_back(std::move(fn));
  }
  for (size_t i = 0; i < module.num_tables(); ++i) {
    const std::string type = map_type_name(module.table_type(i));
    if (std::find(out.map_types.begin(), out.map_types.end(), type) == out.map_types.end()) out.map_types.push_back(type);
  }
  return out;
}

std::string helper_list(const BytecodeFacts& f) {
  std::vector<std::string> names;
  for (const int32_t id : f.helpers) names.push_back(helper_name(id));
  return fmt::format("{}", fmt::join(names, ","));
}

}  // namespace

int run_check(const CheckOptions& options) {
  const CompatTable& table = CompatTable::bundled();
  std::vector<CompatTarget> targets;
  for (const auto& k : options.kernels.empty() ? default_check_kernels() : options.kernels)
    targets.push_back(parse_compat_target(k));
  // Compiling needs headers (this host's) and maps are created by BCC: root.
  Session session = open_session(options.headers, "check");
  const KernelInfo host = session.kernel;

  int offenders = 0;
  for (const auto& target : targets) {
    const CompatTable::Backport* backport = target.backport.empty() ? nullptr : table.backport(target.backport);
    KernelInfo kernel = host;  // tracefs etc. from here; version and abilities of the target
    kernel.version_code = backport ? backport->base : target.version;
    kernel.release = fmt::format("{} (checked)", target.name);
    kernel.has_kprobes = backport ? backport->progs.contains("kprobe") : target.version >= kernel_version(4, 1, 0);
    std::vector<CheckConfig> configs;
    if (options.programs.empty()) {
      configs = bundled_configs(kernel);
    } else {
      for (const auto& path : options.programs) {
        std::ifstream in(path);
        if (!in) throw UsageError(fmt::format("--program '{}': cannot read it (give a BCC C file)", path));
        std::ostringstream text;
        text << in.rdbuf();
        configs.push_back({path, path, text.str(), {}, {}, {}});
      }
    }
    std::printf("kernel %s%s: %zu instructions per program, helpers/maps/programs of %s\n", target.name.c_str(),
                backport ? fmt::format(" ({} backport)", target.backport).c_str() : "",
                table.instruction_limit(kernel.version_code),
                backport ? target.backport.c_str() : version_text(target.version).c_str());
    for (const auto& config : configs) {
      const CompiledProgram compiled = compile_for_check(config, session.headers, kernel.version_code);
      size_t largest = 0;
      int failed = 0;
      for (size_t i = 0; i < compiled.functions.size(); ++i) {
        const auto& fn = compiled.functions[i];
        largest = std::max(largest, fn.facts.instructions);
        const auto problems = compat_problems(fn, target, table);
        if (!problems.empty()) ++failed;
        if (options.verbose || !problems.empty())
          std::printf("  %-4s %s %s [%s]: %zu insns, stack %d B, helpers %s\n", problems.empty() ? "ok" : "FAIL",
                      config.label.c_str(), fn.function.c_str(), fn.prog_type.c_str(), fn.facts.instructions,
                      fn.facts.stack_bytes, helper_list(fn.facts).c_str());
        for (const auto& p : problems) std::printf("         %s\n", p.c_str());
      }
      const auto maps = map_problems(compiled.map_types, target, table);
      for (const auto& p : maps) std::printf("  FAIL %s maps: %s\n", config.label.c_str(), p.c_str());
      if (!maps.empty()) ++failed;
      offenders += failed;
      std::printf("  %-4s %s: %zu functions, largest %zu instructions, maps %s\n", failed ? "FAIL" : "ok",
                  config.label.c_str(), compiled.functions.size(), largest,
                  fmt::format("{}", fmt::join(compiled.map_types, ",")).c_str());
    }
  }
  std::fflush(stdout);
  if (offenders) {
    std::fprintf(stderr, "skbtrail check: %d program part(s) would not load on the kernels checked (FAIL lines above)\n",
                 offenders);
    return 1;
  }
  return 0;
}

}  // namespace skbtrail
