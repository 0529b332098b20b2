/**
 * Bytes on the wire as the client sees them: what its sockets wrote and read (RESP framing,
 * stream IDs and keys included, TCP/TLS headers not). This is the traffic a replica group adds
 * per step, measured, not estimated from message sizes.
 */
import type { Redis } from 'ioredis';

export interface WireBytes {
  sent: number;
  received: number;
}

export function wireBytesOf(clients: readonly Redis[]): WireBytes {
  let sent = 0;
  let received = 0;
  for (const client of clients) {
    // `stream` is the connected socket (net.Socket or tls.TLSSocket)
    const socket = client.stream as { bytesWritten?: number; bytesRead?: number } | undefined;
    sent += socket?.bytesWritten ?? 0;
    received += socket?.bytesRead ?? 0;
  }
  return { sent, received };
}

export function bytesSince(now: WireBytes, before: WireBytes): WireBytes {
  return { sent: now.sent - before.sent, received: now.received - before.received };
}
