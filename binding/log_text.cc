#include "log_text.h"

#include <cstdio>
#include <cstring>

#include "boundary.h"

namespace lwsnode {

namespace {

void AppendEscaped(std::string& out, unsigned char byte) {
  static const char kHex[] = "0123456789abcdef";
  const char escaped[] = {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
  out.append(escaped, sizeof escaped);
}

bool IsContinuation(unsigned char byte) { return (byte & 0xc0) == 0x80; }

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms,
// no surrogates, nothing past U+10FFFF) starting at text[0], which is 0x80 or
// above; 0 if there is none.
size_t Utf8SequenceLength(const unsigned char* text, size_t available) {
  unsigned char lead = text[0];
  size_t length;
  unsigned char low = 0x80, high = 0xbf;  // bounds of the second byte
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (available < length || text[1] < low || text[1] > high) return 0;
  for (size_t i = 2; i < length; i++)
    if (!IsContinuation(text[i])) return 0;
  return length;
}

}  // namespace

std::string EscapeLogText(const char* text, size_t length) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text);
  std::string out;
  out.reserve(length);
  size_t i = 0;
  while (i < length) {
    unsigned char byte = bytes[i];
    if (byte >= 0x20 && byte < 0x7f) {
      out.push_back(static_cast<char>(byte));
      i++;
      continue;
    }
    size_t sequence = byte >= 0x80 ? Utf8SequenceLength(bytes + i, length - i) : 0;
    // U+0080-U+009F are C2 80-C2 9F: C1 controls, which a terminal may obey.
    bool c1 = sequence == 2 && byte == 0xc2 && bytes[i + 1] <= 0x9f;
    if (sequence && !c1) {
      out.append(text + i, sequence);
      i += sequence;
    } else {
      for (size_t end = i + (c1 ? 2 : 1); i < end; i++) AppendEscaped(out, bytes[i]);
    }
  }
  return out;
}

void EmitLogLineToStderr(int /*level*/, const char* line) {
  // Called by lws: nothing may throw past here (boundary.h).
  Boundary([line] {
    size_t length = std::strlen(line);
    // lws ends each line with a newline; any other is the server's.
    while (length && (line[length - 1] == '\n' || line[length - 1] == '\r')) length--;
    std::string escaped = EscapeLogText(line, length);
    escaped.push_back('\n');
    // One write per line, so lines of several threads do not interleave.
    std::fwrite(escaped.data(), 1, escaped.size(), stderr);
  });
}

}  // namespace lwsnode
