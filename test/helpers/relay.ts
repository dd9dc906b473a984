/**
 * A TCP relay (node:net, nothing else) on 127.0.0.1 at a port the OS picks,
 * forwarding every connection to a target port, for faults a real server
 * cannot stage by itself. blackHole() makes the path between the two ends go
 * silent the way a vanished peer or a dead NAT entry does: nothing is
 * forwarded in either direction any more, yet no FIN or RST is sent and both
 * sockets stay open, so neither end can tell from TCP alone.
 */
import net from 'node:net';
import { arrivals } from './arrivals';
import { destroyAndClose, listenOnLoopback } from './tools';

export interface RelayedConnection {
  /** The accepted socket (towards the client). */
  client: net.Socket;
  /** The socket the relay opened (towards the target). */
  server: net.Socket;
  /** Bytes forwarded client → server and server → client so far. */
  readonly upstreamBytes: number;
  readonly downstreamBytes: number;
  /**
   * Stops forwarding both ways and stops reading both sockets, so whatever
   * either end sends stays in kernel buffers. Both sockets stay open.
   */
  blackHole(): void;
  /**
   * After blackHole(): reads the client's socket again, discarding what
   * arrives (nothing is forwarded), so its FIN or RST can be seen.
   */
  discardFromClient(): void;
  /**
   * Settles once the client's side of the relay closed (FIN or RST), with
   * which. A paused (black-holed) socket does not read, so sees no FIN:
   * call discardFromClient() first.
   */
  clientClosed: Promise<'fin' | 'reset'>;
}

export interface Relay {
  port: number;
  /** ws://127.0.0.1:PORT (no trailing slash) */
  url: string;
  /** The next relayed connection (or one accepted and not yet taken); its target socket is connected. */
  nextConnection(): Promise<RelayedConnection>;
  /** Destroys every socket and stops listening. */
  close(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const connections = arrivals<RelayedConnection>();

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    track(client);
    let sawReset = false;
    client.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET') sawReset = true;
    });
    const clientClosed = new Promise<'fin' | 'reset'>((resolve) => client.once('close', () => resolve(sawReset ? 'reset' : 'fin')));
    const upstream = net.connect(targetPort, '127.0.0.1');
    track(upstream);
    upstream.on('error', () => {});
    let upstreamBytes = 0;
    let downstreamBytes = 0;
    let forwarding = true;

    // Hand-written forwarding rather than pipe(), so black-holing is one flag
    // and an end or error on one side is passed on as the same on the other.
    const forward = (from: net.Socket, to: net.Socket, count: (n: number) => void) => {
      from.on('data', (chunk: Buffer) => {
        if (!forwarding) return;
        count(chunk.length);
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => {
            if (forwarding) from.resume();
          });
        }
      });
      from.on('end', () => {
        if (forwarding) to.end();
      });
      from.on('close', () => {
        if (forwarding && !to.destroyed) to.destroy();
      });
    };

    upstream.once('connect', () => {
      forward(client, upstream, (n) => (upstreamBytes += n));
      forward(upstream, client, (n) => (downstreamBytes += n));
      client.resume();
      const connection: RelayedConnection = {
        client,
        server: upstream,
        get upstreamBytes() {
          return upstreamBytes;
        },
        get downstreamBytes() {
          return downstreamBytes;
        },
        blackHole() {
          forwarding = false;
          client.pause();
          upstream.pause();
        },
        discardFromClient() {
          client.resume();
        },
        clientClosed,
      };
      connections.add(connection);
    });
  });
  const port = await listenOnLoopback(server);

  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    nextConnection: connections.next,
    close: () => destroyAndClose(server, sockets),
  };
}
