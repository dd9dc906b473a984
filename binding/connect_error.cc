#include "connect_error.h"

#include <openssl/x509.h>

#include <cstdlib>

#include "platform/socket_error.h"

namespace lwsnode {

namespace {

// lws 4.3 reports a failed certificate check as
//   "server's cert didn't look good, tls=invalidca X509_V_ERR = 18: error:00000012:lib(0)::reason(18)"
// where everything after the number is an OpenSSL error string built from
// the verify code, which OpenSSL cannot name. The verify code itself can be.
//
// When the check fails inside SSL_connect() instead, lws says
//   "tls: unable to get local issuer cert"
// with OpenSSL's words for the verify code cut to 32 bytes; the code is the
// one whose words begin so.
std::string DescribeCertificateError(const std::string& text) {
  constexpr const char kMarker[] = "X509_V_ERR = ";
  constexpr const char kTlsPrefix[] = "tls: ";
  long code = -1;
  size_t at = text.find(kMarker);
  if (at != std::string::npos) {
    code = std::strtol(text.c_str() + at + sizeof kMarker - 1, nullptr, 10);
  } else if (text.rfind(kTlsPrefix, 0) == 0 && text.size() > sizeof kTlsPrefix - 1) {
    std::string words = text.substr(sizeof kTlsPrefix - 1);
    // OpenSSL 3 numbers its verify results below 100.
    for (long candidate = 1; candidate < 100 && code < 0; candidate++)
      if (std::string(X509_verify_cert_error_string(candidate)).rfind(words, 0) == 0) code = candidate;
  }
  if (code < 0) return {};
  return std::string("TLS certificate verification failed: ") + X509_verify_cert_error_string(code) +
         " (X509_V_ERR " + std::to_string(code) + ")";
}

}  // namespace

std::string DescribeConnectError(lws* wsi, const char* lws_text) {
  std::string text = lws_text ? lws_text : "connection failed";
  std::string certificate = DescribeCertificateError(text);
  if (!certificate.empty()) return certificate;
  // "HS: ws upgrade response not 101" leaves out what the response was.
  if (unsigned status = lws_http_client_http_response(wsi)) return text + " (HTTP " + std::to_string(status) + ")";
  // ECONNREFUSED and friends: lws's "closed before established" leaves them out.
  std::string socket_error = PendingSocketError(lws_get_socket_fd(wsi));
  return socket_error.empty() ? text : text + ": " + socket_error;
}

}  // namespace lwsnode
