/**
 * libwebsockets for Node: a WebSocket client on the real libwebsockets C
 * library, with the API of Perl's Net::Libwebsockets.
 */
import * as X from './errors';

export { connect, type CloseResult } from './connect';
export { Courier, type PauseHandle, type TextListener, type BinaryListener } from './courier';
export type { ConnectOptions, CompressionOption, DeflateAttributes, ContextMode } from './options';
export type { HeadersOption } from './headers';
export { Base, WebSocketClose, ConnectionFailed, General, ConnectionClosed, NotSent, type FailurePhase, type HandshakeResponse } from './errors';
export { Logger, type LoggerOptions } from './logger';
export * from './constants';
/** The error classes under Perl's namespace: X.Base, X.WebSocketClose, … */
export { X };
/** The WHATWG WebSocket class, over connect() and the Courier. */
export { WebSocket, CloseEvent, ErrorEvent, type WebSocketOptions, type BinaryType, type WebSocketData, type WebSocketMessageEvent, type WebSocketEventMap, type WebSocketEventHandler, type CloseEventInit, type ErrorEventInit, type EventInitDict } from './websocket';
