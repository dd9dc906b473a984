#include "http_answer.h"

#include <cctype>
#include <cstring>

#include "boundary.h"

namespace lwsnode {

namespace {

// Past either bound the remaining headers are left out. lws's header table
// (max_http_header_data, 4 KiB unless the context sets it) already bounds
// the bytes; these keep what reaches JavaScript bounded whatever that is.
constexpr size_t kMaxHeaders = 64;
constexpr size_t kMaxHeaderBytes = 8 * 1024;

std::string LowerCase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Collects name/value pairs up to the bounds.
class HeaderList {
 public:
  explicit HeaderList(std::vector<std::string>& out) : out_(out) {}

  // False once the list is full. A name already listed (lws's custom
  // headers keep the case they came in) is passed over.
  bool Add(std::string name, std::string value) {
    name = LowerCase(std::move(name));
    for (size_t i = 0; i < out_.size(); i += 2)
      if (out_[i] == name) return true;
    if (out_.size() / 2 >= kMaxHeaders || bytes_ + name.size() + value.size() > kMaxHeaderBytes) return false;
    bytes_ += name.size() + value.size();
    out_.push_back(std::move(name));
    out_.push_back(std::move(value));
    return true;
  }

 private:
  std::vector<std::string>& out_;
  size_t bytes_ = 0;
};

// One token's value, false if the response had none. lws keeps each line
// it came on as a fragment; joining them here gives ", " where
// lws_hdr_copy() would put ",".
bool Fragments(lws* wsi, lws_token_indexes token, std::string& joined) {
  int index = 0;
  for (;; index++) {
    // 0 both for an empty fragment and for none: the copy tells them apart.
    std::string piece(static_cast<size_t>(lws_hdr_fragment_length(wsi, token, index)) + 1, '\0');
    int copied = lws_hdr_copy_fragment(wsi, piece.data(), static_cast<int>(piece.size()), token, index);
    if (copied < 0) break;
    piece.resize(static_cast<size_t>(copied));
    // lws keeps the blanks before a repeated header's value.
    size_t begin = piece.find_first_not_of(" \t");
    if (index) joined += ", ";
    if (begin != std::string::npos) joined.append(piece, begin, piece.find_last_not_of(" \t") + 1 - begin);
  }
  return index > 0;
}

// lws's names for what it parses into tokens: a header is "name:"; the
// rest are request and status lines ("get ", "http/1.1 ") and HTTP/2
// pseudo-headers (":status"). The tokens from _WSI_TOKEN_CLIENT_SENT_PROTOCOLS
// on hold what lws keeps of the request it sent, and are not looked at.
bool IsResponseHeader(const unsigned char* name) {
  if (!name) return false;
  size_t length = std::strlen(reinterpret_cast<const char*>(name));
  return length > 1 && name[0] != ':' && name[length - 1] == ':';
}

void AddKnownHeaders(lws* wsi, HeaderList& list) {
  for (int index = 0; index < static_cast<int>(_WSI_TOKEN_CLIENT_SENT_PROTOCOLS); index++) {
    auto token = static_cast<lws_token_indexes>(index);
    const unsigned char* name = lws_token_to_string(token);
    std::string value;
    if (!IsResponseHeader(name) || !Fragments(wsi, token, value)) continue;
    std::string text(reinterpret_cast<const char*>(name));
    text.pop_back();  // the ':'
    if (!list.Add(std::move(text), std::move(value))) return;
  }
}

#if defined(LWS_WITH_CUSTOM_HEADERS)
// Headers lws has no token for, kept by name. lws's API reads one value per
// name, so a custom header sent twice gives one of its values.
void AddCustomHeaders(lws* wsi, HeaderList& list) {
  std::vector<std::string> names;
  lws_hdr_custom_name_foreach(
      wsi,
      [](const char* name, int length, void* opaque) {
        // Called by lws: nothing may throw past here (boundary.h).
        Boundary([&] {
          auto* found = static_cast<std::vector<std::string>*>(opaque);
          if (length > 0 && found->size() < kMaxHeaders) found->emplace_back(name, static_cast<size_t>(length));
        });
      },
      &names);
  for (const std::string& name : names) {
    int length = lws_hdr_custom_length(wsi, name.data(), static_cast<int>(name.size()));
    if (length < 0) continue;
    std::string value(static_cast<size_t>(length) + 1, '\0');
    int copied = lws_hdr_custom_copy(wsi, value.data(), length + 1, name.data(), static_cast<int>(name.size()));
    if (copied < 0) continue;
    value.resize(static_cast<size_t>(copied));
    std::string bare = name.back() == ':' ? name.substr(0, name.size() - 1) : name;
    if (!list.Add(std::move(bare), std::move(value))) return;
  }
}
#endif

// The status line after the version: "404 Not Found".
std::string StatusLine(lws* wsi) {
  std::string line;
  if (!Fragments(wsi, WSI_TOKEN_HTTP, line)) Fragments(wsi, WSI_TOKEN_HTTP1_0, line);
  return line;
}

}  // namespace

HttpAnswer ReadHttpAnswer(lws* wsi) {
  HttpAnswer answer;
  answer.status = lws_http_client_http_response(wsi);
  if (!answer.status) return answer;
  std::string line = StatusLine(wsi);
  size_t text = line.find(' ');
  if (text != std::string::npos) text = line.find_first_not_of(' ', text);
  if (text != std::string::npos) answer.status_text = line.substr(text);
  HeaderList list(answer.headers);
  AddKnownHeaders(wsi, list);
#if defined(LWS_WITH_CUSTOM_HEADERS)
  AddCustomHeaders(wsi, list);
#endif
  return answer;
}

}  // namespace lwsnode
