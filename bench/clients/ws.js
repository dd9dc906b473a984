'use strict';
// The `ws` package, with its optional native helpers: ws picks up
// bufferutil by itself when it is installed (describe() checks that it did).
const WebSocket = require('ws');
const { Connection } = require('./connection');

module.exports = {
  name: 'ws',
  supports: { deflate: true },

  describe() {
    const loaded = (name) => Object.keys(require.cache).some((file) => file.includes(`/node_modules/${name}/`));
    // ws validates UTF-8 with Node's buffer.isUtf8 when it exists (Node ≥
    // 18.14) and only falls back to utf-8-validate without it.
    const utf8 = require('node:buffer').isUtf8 ? 'buffer.isUtf8 (built in)' : loaded('utf-8-validate') ? 'utf-8-validate' : 'JS';
    return `ws ${require('ws/package.json').version} (masking: ${loaded('bufferutil') ? 'bufferutil' : 'JS'}, UTF-8 check: ${utf8})`;
  },

  open(url, { deflate }) {
    return new Promise((resolve, reject) => {
      // ws offers permessage-deflate by default; false makes it offer nothing.
      const socket = new WebSocket(url, { perMessageDeflate: deflate });
      const conn = new Connection({
        sendText: (text) => socket.send(text),
        sendBinary: (bytes) => socket.send(bytes),
        close: () => socket.close(1000),
      });
      let opened = false;
      let failure = null;
      socket.on('open', () => {
        opened = true;
        conn.extensions = socket.extensions;
        resolve(conn);
      });
      // ws hands text over as a Buffer; an application decodes it.
      socket.on('message', (data, isBinary) => conn.onmessage(isBinary ? data : data.toString()));
      socket.on('error', (error) => {
        failure = error;
        if (!opened) reject(error);
      });
      socket.on('close', (code) => {
        if (opened) conn.end(failure ?? (code === 1000 || code === 1005 ? null : new Error(`closed with ${code}`)));
      });
    });
  },
};
