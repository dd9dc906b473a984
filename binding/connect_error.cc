#include "connect_error.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "platform/socket_error.h"

namespace lwsnode {

namespace {

// ECONNREFUSED and friends: lws's "closed before established" leaves them out.
std::string WithSocketError(lws* wsi, const std::string& text) {
  std::string socket_error = PendingSocketError(lws_get_socket_fd(wsi));
  return socket_error.empty() ? text : text + ": " + socket_error;
}

}  // namespace

ConnectError DescribeConnectError(lws* wsi, const char* lws_text, FailurePhase phase) {
  std::string text = lws_text ? lws_text : "connection failed";
  // lws ends some of its reasons with a newline.
  text.erase(text.find_last_not_of(" \t\r\n") + 1);
  // lws 4.3.5 keeps the SSL object until after this callback. Its verify
  // callback turns each error a `tls` flag allows into X509_V_OK, so a
  // result still set is the check that refused the server, whether
  // SSL_connect() stopped on it or lws's look at the result afterwards did.
  if (SSL* ssl = lws_get_ssl(wsi)) {
    long verify_result = SSL_get_verify_result(ssl);
    if (verify_result != X509_V_OK) return {X509_verify_cert_error_string(verify_result), FailurePhase::kTls, verify_result};
    // The handshake never completed: a server that speaks no TLS, a
    // handshake alert, or the connection ending during it.
    if (!SSL_is_init_finished(ssl)) return {WithSocketError(wsi, text), FailurePhase::kTls};
  }
  // "HS: ws upgrade response not 101" leaves out what the response was.
  if (unsigned status = lws_http_client_http_response(wsi)) return {text + " (HTTP " + std::to_string(status) + ")", phase};
  return {WithSocketError(wsi, text), phase};
}

}  // namespace lwsnode
