// One JSON object on one line, written straight into an output buffer: keys
// and values go in as typed, strings are escaped, nesting is tracked. The
// records' JSON writers use nothing else, so every line is valid JSON.
// Every key a record writes is listed in docs/json.md (a test checks it).
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace skbtrail {

class MonotonicToWall;

class JsonLine {
 public:
  // Opens the object: {"type":"<type>"
  JsonLine(std::string& out, const MonotonicToWall& clock, std::string_view type);
  JsonLine(const JsonLine&) = delete;
  JsonLine& operator=(const JsonLine&) = delete;

  JsonLine& str(std::string_view key, std::string_view value);
  template <std::integral T>
  JsonLine& num(std::string_view key, T value) {
    if constexpr (std::is_signed_v<T>) return signed_number(key, static_cast<int64_t>(value));
    else return unsigned_number(key, static_cast<uint64_t>(value));
  }
  JsonLine& real(std::string_view key, double value);  // one decimal
  JsonLine& boolean(std::string_view key, bool value);
  JsonLine& hex(std::string_view key, uint64_t value);        // "0x1a2b" (a string)
  JsonLine& time(std::string_view key, uint64_t monotonic_ns);  // "2026-11-22T08:41:02.123456Z"
  // A string value that append(std::string&) writes itself, for text known
  // to need no escaping (addresses): no temporary string.
  template <typename Append>
  JsonLine& unescaped(std::string_view k, Append&& append) {
    key(k);
    out_ += '"';
    append(out_);
    out_ += '"';
    return *this;
  }

  JsonLine& begin_object(std::string_view key);
  JsonLine& end_object();
  JsonLine& begin_array(std::string_view key);
  JsonLine& item(std::string_view value);  // a string element of the open array
  JsonLine& begin_item_object();           // an object element of the open array
  JsonLine& end_array();

  // Closes the object and the line. Also done by the destructor.
  void end();
  ~JsonLine() { end(); }

 private:
  JsonLine& unsigned_number(std::string_view key, uint64_t value);
  JsonLine& signed_number(std::string_view key, int64_t value);
  void key(std::string_view key);
  void separate();
  std::string& out_;
  const MonotonicToWall& clock_;
  // One "something was written at this depth" flag per nesting level.
  static constexpr int kMaxDepth = 6;
  bool wrote_[kMaxDepth] = {};
  int depth_ = 0;
  bool ended_ = false;
};

// Appends s as a JSON string literal (with quotes) to out.
void append_json_string(std::string& out, std::string_view s);

}  // namespace skbtrail
