/**
 * A TCP proxy in front of redis-server that delays every chunk by a fixed time in each direction:
 * network latency injected on the wire, so the replica protocol's round trips are what they would
 * be across machines. Chunks keep their order (equal delays fire in order). A timer fires late on
 * a busy machine, so the proxy also reports the delay it actually gave (mean over chunks).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface LatencyProxy {
  port: number;
  /** mean one-way delay actually applied so far, in ms. */
  meanDelayMs(): number;
  close(): Promise<void>;
}

export function startLatencyProxy(upstreamPort: number, oneWayMs: number): Promise<LatencyProxy> {
  const sockets = new Set<Socket>();
  let delaySum = 0;
  let chunks = 0;
  const relay = (from: Socket, to: Socket): void => {
    from.on('data', (chunk) => {
      chunks++;
      if (oneWayMs === 0) {
        to.write(chunk);
        return;
      }
      const received = performance.now();
      setTimeout(() => {
        delaySum += performance.now() - received;
        if (to.writable) to.write(chunk);
      }, oneWayMs);
    });
    from.on('close', () => setTimeout(() => to.destroy(), oneWayMs));
    from.on('error', () => to.destroy());
  };
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => sockets.delete(socket));
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || address === null) return reject(new Error('the proxy has no port'));
      resolve({
        port: address.port,
        meanDelayMs: () => (chunks === 0 ? 0 : delaySum / chunks),
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
