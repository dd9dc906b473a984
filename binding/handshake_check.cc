#include "handshake_check.h"

#include <set>
#include <vector>

namespace lwsnode {

namespace {

constexpr const char kDeflate[] = "permessage-deflate";

struct Parameter {
  std::string name, value;
  bool has_value = false;
};

// One list element: "name; param; param=value".
struct Element {
  std::string name;
  std::vector<Parameter> parameters;
};

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// Splits at `separator` outside double quotes (RFC 7230 quoted-string).
std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts(1);
  bool quoted = false;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (c == '"') quoted = !quoted;
    if (quoted && c == '\\' && i + 1 < text.size()) {
      parts.back() += c;
      c = text[++i];
    } else if (!quoted && c == separator) {
      parts.emplace_back();
      continue;
    }
    parts.back() += c;
  }
  return parts;
}

// RFC 7230 7: empty list elements are allowed and mean nothing.
std::vector<Element> ParseList(const std::string& header) {
  std::vector<Element> elements;
  for (const std::string& part : Split(header, ',')) {
    std::vector<std::string> pieces = Split(part, ';');
    Element element{Trim(pieces[0]), {}};
    for (size_t i = 1; i < pieces.size(); i++) {
      std::string piece = Trim(pieces[i]);
      size_t equals = piece.find('=');
      Parameter parameter;
      parameter.name = Trim(piece.substr(0, equals));
      if (equals != std::string::npos) {
        parameter.value = Trim(piece.substr(equals + 1));
        parameter.has_value = true;
      }
      element.parameters.push_back(parameter);
    }
    if (!element.name.empty() || !element.parameters.empty()) elements.push_back(element);
  }
  return elements;
}

const Parameter* Find(const Element& element, const std::string& name) {
  for (const Parameter& parameter : element.parameters)
    if (parameter.name == name) return &parameter;
  return nullptr;
}

// RFC 7692 7.1.2: 8 to 15, digits without a leading zero; -1 otherwise.
// lws reads the value with atoi(), so a quoted form is not taken either.
int WindowBits(const Parameter& parameter) {
  const std::string& value = parameter.value;
  if (!parameter.has_value || value.empty() || value.size() > 2 || value[0] == '0') return -1;
  for (char c : value)
    if (c < '0' || c > '9') return -1;
  int bits = std::stoi(value);
  return bits >= 8 && bits <= 15 ? bits : -1;
}

// Whether permessage-deflate `answer` answers `offer`: empty if so.
std::string CheckDeflate(const Element& offer, const Element& answer) {
  std::set<std::string> seen;
  for (const Parameter& parameter : answer.parameters) {
    const std::string& name = parameter.name;
    const std::string quoted = "'" + name + "'";
    if (!seen.insert(name).second) return "permessage-deflate parameter " + quoted + " given twice";
    if (name == "server_no_context_takeover" || name == "client_no_context_takeover") {
      if (parameter.has_value) return "permessage-deflate parameter " + quoted + " with a value (it takes none)";
      continue;
    }
    if (name != "server_max_window_bits" && name != "client_max_window_bits")
      return "permessage-deflate parameter " + quoted + ", which RFC 7692 does not define";
    const Parameter* offered = Find(offer, name);
    // The server may limit its own window unasked (7.1.2.1), the client's
    // only when the offer said the client can be limited (7.1.2.2).
    if (name == "client_max_window_bits" && !offered)
      return "permessage-deflate parameter 'client_max_window_bits', which was not offered";
    int bits = WindowBits(parameter);
    if (bits < 0)
      return "permessage-deflate " + name + (parameter.has_value ? " '" + parameter.value + "'" : " without a value") +
             " (8 to 15 expected)";
    if (offered && offered->has_value && bits > WindowBits(*offered))
      return "permessage-deflate " + name + "=" + parameter.value + ", more than the " + offered->value + " offered";
  }
  return {};
}

}  // namespace

std::string CheckSubprotocol(const std::string& offered_protocols, const std::string& protocol) {
  if (protocol.empty()) return {};
  const std::string prefix = "the server's Sec-WebSocket-Protocol '" + protocol + "' ";
  if (offered_protocols.empty()) return prefix + "selects a subprotocol, but none was offered";
  if (protocol.find(',') != std::string::npos) return prefix + "selects more than one subprotocol";
  for (const std::string& name : Split(offered_protocols, ','))
    if (Trim(name) == protocol) return {};
  return prefix + "is not one of the subprotocols offered (" + offered_protocols + ")";
}

std::string CheckExtensions(const std::string& offer, const std::string& accepted) {
  if (accepted.empty()) return {};
  const std::string prefix = "the server's Sec-WebSocket-Extensions '" + accepted + "': ";
  std::vector<Element> offers = ParseList(offer);
  std::set<std::string> seen;
  for (const Element& answer : ParseList(accepted)) {
    if (answer.name.empty()) return prefix + "parameters without an extension name";
    const std::string quoted = "'" + answer.name + "'";
    if (!seen.insert(answer.name).second) return prefix + quoted + " accepted more than once";
    // The offer may hold several permessage-deflate setups; the answer
    // needs to fit one of them (RFC 7692 5.1).
    std::string why = "extension " + quoted + ", which was not offered";
    for (const Element& candidate : offers) {
      if (candidate.name != answer.name) continue;
      why = answer.name == kDeflate ? CheckDeflate(candidate, answer) : std::string();
      if (why.empty()) break;
    }
    if (!why.empty()) return prefix + why;
  }
  return {};
}

}  // namespace lwsnode
