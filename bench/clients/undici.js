'use strict';
// undici's WHATWG WebSocket (the one Node's global WebSocket is built on).
const { WebSocket } = require('undici');
const { Connection } = require('./connection');

module.exports = {
  name: 'undici',
  // undici always offers permessage-deflate but only inflates what it
  // receives; it never compresses what it sends, so its deflate numbers
  // would not be comparable. (The echo server refuses deflate on every path
  // but /deflate, so undici is uncompressed elsewhere like the others.)
  supports: { deflate: false, why: 'undici inflates received messages but never compresses what it sends' },
  describe: () => `undici ${require('undici/package.json').version}`,

  open(url) {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      // The default, 'blob', would wrap every binary message in a Blob.
      socket.binaryType = 'arraybuffer';
      const conn = new Connection({
        sendText: (text) => socket.send(text),
        sendBinary: (bytes) => socket.send(bytes),
        close: () => socket.close(1000),
      });
      let opened = false;
      let failure = null;
      socket.onopen = () => {
        opened = true;
        conn.extensions = socket.extensions;
        resolve(conn);
      };
      // Buffer.from(ArrayBuffer) is a view, not a copy.
      socket.onmessage = (event) => conn.onmessage(typeof event.data === 'string' ? event.data : Buffer.from(event.data));
      socket.onerror = (event) => {
        failure = event.error ?? new Error(event.message || 'WebSocket error');
        if (!opened) reject(failure);
      };
      socket.onclose = (event) => {
        if (!opened) return reject(failure ?? new Error(`closed with ${event.code} before opening`));
        conn.end(failure ?? (event.code === 1000 || event.code === 1005 ? null : new Error(`closed with ${event.code}`)));
      };
    });
  },
};
