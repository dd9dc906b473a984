/**
 * A native Failed event, read into what ConnectionFailed reports: where the
 * connection was, the cause in words, and what the server answered. The
 * addon classifies (binding/connect_error.cc: OpenSSL's own state says
 * whether TLS failed, not lws's wording); this only words it.
 */
import type { HandshakeResponse } from './errors';
import { failurePhaseOf, type NativeFailed, type NativeFailurePhase, type NativeHttpAnswer } from './native';

export interface Failure {
  phase: NativeFailurePhase;
  cause: string;
  /** What the server answered, when an HTTP response came. */
  response?: HandshakeResponse;
}

export function readFailure(failed: NativeFailed): Failure {
  const [cause, , verifyResult, answer] = failed;
  const failure: Failure = { phase: failurePhaseOf(failed), cause: verifyResult ? certificateRefusal(cause, verifyResult) : cause };
  if (answer) failure.response = handshakeResponse(answer);
  return failure;
}

/**
 * `words`: OpenSSL's for the X509_V_ERR_* `code` (X509_verify_cert_error_string
 * of the OpenSSL the addon runs with), which lws's own message reduces to
 * a number and an unnamed error string.
 */
function certificateRefusal(words: string, code: number): string {
  return `TLS certificate verification failed: ${words} (X509_V_ERR ${code})`;
}

function handshakeResponse([status, statusText, flat]: NativeHttpAnswer): HandshakeResponse {
  const entries: Array<[string, string]> = [];
  for (let index = 0; index + 1 < flat.length; index += 2) entries.push([flat[index] as string, flat[index + 1] as string]);
  // fromEntries defines own properties: a header named __proto__ stays data.
  const headers: Record<string, string> = Object.fromEntries(entries);
  return Object.freeze({ status, statusText, headers: Object.freeze(headers) });
}
