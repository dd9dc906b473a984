'use strict';
// The Connection every adapter returns (see README.md): the scenarios set
// onmessage and onend; the adapter calls them.

class Connection {
  constructor({ sendText, sendBinary, close }) {
    /** Sec-WebSocket-Extensions as negotiated; the adapter sets it on open. */
    this.extensions = '';
    this.sendText = sendText;
    this.sendBinary = sendBinary;
    this.onmessage = () => {};
    // Until a scenario says otherwise, an unexpected end is fatal to the run:
    // a benchmark that silently loses its connection measures nothing.
    this.onend = (error) => {
      if (error) throw error;
    };
    this.ended = false;
    this.closing = false;
    this.#close = close;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  #close;
  #closed;
  #resolveClosed;

  /** Starts the closing handshake (1000); resolves once the connection is over. */
  close() {
    if (!this.closing && !this.ended) {
      this.closing = true;
      this.#close();
    }
    return this.#closed;
  }

  /** For the adapter: the connection is over; error is null if it closed cleanly. */
  end(error) {
    if (this.ended) return;
    this.ended = true;
    this.#resolveClosed();
    // An error after we asked to close is still worth knowing, but a clean
    // close we started is the normal end.
    this.onend(this.closing && !error ? null : error ?? new Error('the server closed the connection'));
  }
}

module.exports = { Connection };
