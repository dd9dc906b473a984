#!/usr/bin/env node
'use strict';
// The README's first command: starts a local echo server (the `ws`
// package's), then shows one connection's life through this package:
// handshake, messages both ways, and the close code both ends saw.
const { WebSocketServer } = require('ws');
const lws = require('..');

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 }, run);

server.on('connection', (socket, request) => {
  console.log(`server: handshake from ${request.headers['user-agent'] ?? 'client'} for ${request.url}`);
  console.log(`server: offered extensions: ${request.headers['sec-websocket-extensions'] ?? '(none)'}`);
  socket.on('message', (data, isBinary) => {
    console.log(`server: got ${isBinary ? 'binary' : 'text'} ${JSON.stringify(isBinary ? [...data] : data.toString())}, echoing`);
    socket.send(data, { binary: isBinary });
  });
  socket.on('close', (code, reason) => console.log(`server: closed with ${code} ${JSON.stringify(reason.toString())}`));
});

async function run() {
  const url = `ws://127.0.0.1:${server.address().port}/demo?greeting=hello`;
  console.log(`client: libwebsockets ${lws.LWS_VERSION}, connecting to ${url}`);
  const [code, reason] = await lws.connect({
    url,
    subprotocols: ['demo'],
    on_ready(courier) {
      console.log('client: handshake complete');
      courier.on_text((c, text) => {
        console.log(`client: got text ${JSON.stringify(text)}`);
        c.send_binary(Buffer.from([1, 2, 3]));
      });
      courier.on_binary((c, bytes) => {
        console.log(`client: got binary ${JSON.stringify([...bytes])}; closing`);
        c.close(lws.CLOSE_STATUS_NORMAL, 'demo done');
      });
      courier.send_text('hello from libwebsockets');
    },
  });
  console.log(`client: connection over: [${code}, ${JSON.stringify(reason)}]`);
  server.close();
}
