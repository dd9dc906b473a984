/**
 * lws's constants with lws's own values, read from its headers when the
 * addon was built, and set_log_level().
 */
import { native } from './native';
import { logLevelMask } from './validation';

const c = native.constants;

/** Whether this build can do permessage-deflate. */
export const HAS_PMD: boolean = c.HAS_PMD;
/** The version of the lws linked into the addon. */
export const LWS_VERSION: string = c.LWS_VERSION;

export const LCCSCF_ALLOW_SELFSIGNED: number = c.LCCSCF_ALLOW_SELFSIGNED;
export const LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK: number = c.LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
export const LCCSCF_ALLOW_EXPIRED: number = c.LCCSCF_ALLOW_EXPIRED;
export const LCCSCF_ALLOW_INSECURE: number = c.LCCSCF_ALLOW_INSECURE;

export const LLL_ERR: number = c.LLL_ERR;
export const LLL_WARN: number = c.LLL_WARN;
export const LLL_NOTICE: number = c.LLL_NOTICE;
export const LLL_INFO: number = c.LLL_INFO;
export const LLL_DEBUG: number = c.LLL_DEBUG;
export const LLL_PARSER: number = c.LLL_PARSER;
export const LLL_HEADER: number = c.LLL_HEADER;
export const LLL_EXT: number = c.LLL_EXT;
export const LLL_CLIENT: number = c.LLL_CLIENT;
export const LLL_LATENCY: number = c.LLL_LATENCY;
export const LLL_USER: number = c.LLL_USER;
export const LLL_THREAD: number = c.LLL_THREAD;

export const CLOSE_STATUS_NORMAL: number = c.CLOSE_STATUS_NORMAL;
export const CLOSE_STATUS_GOINGAWAY: number = c.CLOSE_STATUS_GOINGAWAY;
export const CLOSE_STATUS_PROTOCOL_ERR: number = c.CLOSE_STATUS_PROTOCOL_ERR;
export const CLOSE_STATUS_UNACCEPTABLE_OPCODE: number = c.CLOSE_STATUS_UNACCEPTABLE_OPCODE;
export const CLOSE_STATUS_RESERVED: number = c.CLOSE_STATUS_RESERVED;
export const CLOSE_STATUS_NO_STATUS: number = c.CLOSE_STATUS_NO_STATUS;
export const CLOSE_STATUS_ABNORMAL_CLOSE: number = c.CLOSE_STATUS_ABNORMAL_CLOSE;
export const CLOSE_STATUS_INVALID_PAYLOAD: number = c.CLOSE_STATUS_INVALID_PAYLOAD;
export const CLOSE_STATUS_POLICY_VIOLATION: number = c.CLOSE_STATUS_POLICY_VIOLATION;
export const CLOSE_STATUS_MESSAGE_TOO_LARGE: number = c.CLOSE_STATUS_MESSAGE_TOO_LARGE;
export const CLOSE_STATUS_EXTENSION_REQUIRED: number = c.CLOSE_STATUS_EXTENSION_REQUIRED;
export const CLOSE_STATUS_UNEXPECTED_CONDITION: number = c.CLOSE_STATUS_UNEXPECTED_CONDITION;

/**
 * Sets lws's global log level (LLL_* OR'd together), process-wide: its lines
 * at those levels go to stderr, escaped, except for connections with a
 * `logger`. Default 0: lws says nothing on stderr, as what it would warn of
 * reaches the caller as a rejection.
 */
export function set_log_level(mask: number): void {
  native.setLogLevel(logLevelMask(mask, 'set_log_level() mask'));
}
