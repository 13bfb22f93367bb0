#include "runner/bpf/program.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "runner/bpf/llvm_plugin.h"

namespace skbtrail {

std::string filter_bcc_noise(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.find("sha1 socket not available") != std::string::npos ||
        line.find("cannot get prog tag") != std::string::npos)
      continue;
    out += line;
    out += '\n';
  }
  return out;
}

StderrCapture::StderrCapture() {
  std::fflush(stderr);
  // Like tmpfile(), but honouring TMPDIR (/tmp may be read-only, e.g. in the test VM).
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/skbtrail-stderr-XXXXXX";
  if (const int fd = ::mkstemp(path.data()); fd >= 0) {
    ::unlink(path.c_str());
    file_ = ::fdopen(fd, "w+");
  }
  saved_ = ::dup(STDERR_FILENO);
  if (file_ && saved_ >= 0) ::dup2(::fileno(file_), STDERR_FILENO);
}

StderrCapture::~StderrCapture() {
  restore();
  if (file_) std::fclose(file_);
}

std::string StderrCapture::finish() {
  restore();
  std::string text;
  if (!file_) return text;
  std::rewind(file_);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), file_)) > 0;) text.append(buf, n);
  std::fclose(file_);
  file_ = nullptr;
  return filter_bcc_noise(text);
}

void StderrCapture::restore() {
  if (saved_ < 0) return;
  std::fflush(stderr);
  ::dup2(saved_, STDERR_FILENO);
  ::close(saved_);
  saved_ = -1;
}

std::vector<std::string> header_cflags(const HeaderChoice& headers) {
  std::vector<std::string> flags;
  if (headers.btf) flags.push_back("-DSKBTRAIL_BTF=1");
  // Missing kernel prototypes etc. are normal in kernel headers; BCC's own
  // tools silence the same warnings.
  flags.push_back("-Wno-unused-value");
  flags.push_back("-Wno-pointer-sign");
  flags.push_back("-Wno-compare-distinct-pointer-types");
  flags.push_back("-Wno-gnu-variable-sized-type-not-at-end");
  flags.push_back("-Wno-address-of-packed-member");
  flags.push_back("-Wno-tautological-compare");
  flags.push_back("-Wno-unknown-warning-option");
  flags.push_back("-Wno-unused-variable");
  return flags;
}

std::vector<std::string> compile_flags(const CompileRequest& request) {
  std::vector<std::string> cflags = header_cflags(request.headers);
  cflags.insert(cflags.end(), request.cflags.begin(), request.cflags.end());
  return cflags;
}

BpfObject compile_program(const CompileRequest& request) {
  export_for_bcc(request.headers);
  StderrCapture capture;
  std::string error;
  std::optional<BpfObject> object = llvm_plugin().compile(request.source, compile_flags(request), error);
  const std::string diagnostics = capture.finish();
  if (!object)
    throw std::runtime_error(fmt::format("compiling {} with BCC (header mode {}) failed: {}\n{}", request.program,
                                         request.headers.mode, error, diagnostics));
  return std::move(*object);
}

}  // namespace skbtrail
