'use strict';
// This repository's client, from its compiled dist/ (npm run build:ts), or
// another checkout's with --ours DIR (run.js passes it as BENCH_OURS_ROOT),
// to compare two versions of the library.
const path = require('node:path');
const { Connection } = require('./connection');

const DEFAULT_ROOT = path.join(__dirname, '..', '..');
const root = process.env.BENCH_OURS_ROOT || DEFAULT_ROOT;
const lws = require(path.join(root, 'dist'));

module.exports = {
  name: 'ours',
  supports: { deflate: true },
  describe: () =>
    `libwebsockets (${root === DEFAULT_ROOT ? "this repo's dist/" : path.join(root, 'dist')}, lws ${lws.LWS_VERSION})`,

  open(url, { deflate }) {
    return new Promise((resolve, reject) => {
      let conn;
      const over = lws.connect({
        url,
        // [] offers no extension: the other clients are uncompressed too.
        compression: deflate ? 'deflate' : [],
        on_ready(courier) {
          conn = new Connection({
            sendText: (text) => courier.send_text(text),
            sendBinary: (bytes) => courier.send_binary(bytes),
            close: () => courier.close(1000),
          });
          conn.extensions = courier.extensions;
          // Listeners must be added inside on_ready (docs/API.md): messages that
          // came with the handshake are delivered as soon as it returns.
          courier.on_text((_, text) => conn.onmessage(text));
          courier.on_binary((_, bytes) => conn.onmessage(bytes));
          resolve(conn);
        },
      });
      over.then(
        () => conn?.end(null),
        (error) => (conn ? conn.end(error) : reject(error)),
      );
    });
  },
};
