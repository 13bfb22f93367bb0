#include "runner/output/json_line.h"

#include <cassert>
#include <iterator>

#include <fmt/format.h>

#include "runner/output/clock.h"
#include "runner/output/text.h"

namespace skbtrail {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  size_t run = 0;  // start of the pending run of characters that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    }
  }
  out.append(s, run, s.size() - run);
  out += '"';
}

JsonLine::JsonLine(std::string& out, const MonotonicToWall& clock, std::string_view type)
    : out_(out), clock_(clock) {
  out_ += '{';
  str("type", type);
}

void JsonLine::separate() {
  if (wrote_[depth_]) out_ += ',';
  wrote_[depth_] = true;
}

void JsonLine::key(std::string_view k) {
  // Keys are ours: plain words, nothing to escape. (Copying through a small
  // stack buffer instead makes gcc emit `rep movsq`, which costs this hot
  // path twice its time: bench/capacity.sh.)
  out_.append(wrote_[depth_] ? ",\"" : "\"", wrote_[depth_] ? 2 : 1);
  wrote_[depth_] = true;
  out_.append(k.data(), k.size());
  out_.append("\":", 2);
}

JsonLine& JsonLine::str(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(out_, value);
  return *this;
}

JsonLine& JsonLine::unsigned_number(std::string_view k, uint64_t value) {
  key(k);
  append_uint(out_, value);
  return *this;
}

JsonLine& JsonLine::signed_number(std::string_view k, int64_t value) {
  key(k);
  if (value < 0) {
    out_ += '-';
    append_uint(out_, static_cast<uint64_t>(-(value + 1)) + 1);
  } else {
    append_uint(out_, static_cast<uint64_t>(value));
  }
  return *this;
}

JsonLine& JsonLine::real(std::string_view k, double value) {
  key(k);
  fmt::format_to(std::back_inserter(out_), "{:.1f}", value);
  return *this;
}

JsonLine& JsonLine::boolean(std::string_view k, bool value) {
  key(k);
  out_ += value ? "true" : "false";
  return *this;
}

JsonLine& JsonLine::hex(std::string_view k, uint64_t value) {
  key(k);
  char buf[2 + 16 + 2];
  const auto end = fmt::format_to_n(buf, sizeof(buf), "\"0x{:x}\"", value).out;
  out_.append(buf, end);
  return *this;
}

JsonLine& JsonLine::time(std::string_view k, uint64_t monotonic_ns) {
  key(k);
  out_ += '"';
  clock_.append_iso8601(out_, monotonic_ns);
  out_ += '"';
  return *this;
}

JsonLine& JsonLine::begin_object(std::string_view k) {
  key(k);
  out_ += '{';
  assert(depth_ + 1 < kMaxDepth);
  wrote_[++depth_] = false;
  return *this;
}

JsonLine& JsonLine::end_object() {
  out_ += '}';
  --depth_;
  return *this;
}

JsonLine& JsonLine::begin_array(std::string_view k) {
  key(k);
  out_ += '[';
  assert(depth_ + 1 < kMaxDepth);
  wrote_[++depth_] = false;
  return *this;
}

JsonLine& JsonLine::item(std::string_view value) {
  separate();
  append_json_string(out_, value);
  return *this;
}

JsonLine& JsonLine::begin_item_object() {
  separate();
  out_ += '{';
  assert(depth_ + 1 < kMaxDepth);
  wrote_[++depth_] = false;
  return *this;
}

JsonLine& JsonLine::end_array() {
  out_ += ']';
  --depth_;
  return *this;
}

void JsonLine::end() {
  if (ended_) return;
  ended_ = true;
  out_ += "}\n";
}

}  // namespace skbtrail
