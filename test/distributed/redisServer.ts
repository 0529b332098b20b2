/**
 * A private redis-server for a test file: started on a free loopback port with persistence off,
 * stopped after. No other address is ever contacted. A missing binary is a failure with the fix
 * in the message, never a silent skip (.ci/run installs the Debian package).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis, type RedisOptions } from 'ioredis';

/** Test-only certificates (test/fixtures/tls/README.md). */
export const TLS_FIXTURES = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const START_TIMEOUT_MS = 20_000;

export interface RedisServerOptions {
  /** the server requires it (requirepass). */
  password?: string;
  /** TLS only (no plain port), with the fixture certificates; clients must present one signed by the fixture CA. */
  tls?: boolean;
}

export async function startRedisServer({ password, tls = false }: RedisServerOptions = {}): Promise<RedisServer> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error('redis-server is not installed, and the distributed tests need it: install the Debian package (apt-get install -y redis-server; .ci/run does this)');
  }
  const port = await freePort();
  const auth = password === undefined ? [] : ['--requirepass', password];
  const fixture = (name: string): string => join(TLS_FIXTURES, name);
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', fixture('server.pem'), '--tls-key-file', fixture('server.key'), '--tls-ca-cert-file', fixture('ca.pem'), '--tls-auth-clients', 'yes']
    : ['--port', String(port)];
  const child: ChildProcess = spawn('redis-server', [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...auth], { stdio: 'ignore' });
  const scheme = tls ? 'rediss' : 'redis';
  const url = password === undefined ? `${scheme}://127.0.0.1:${port}` : `${scheme}://:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const tlsOptions: Pick<RedisOptions, 'tls'> = tls ? { tls: { ca: readFileSync(fixture('ca.pem')), cert: readFileSync(fixture('client.pem')), key: readFileSync(fixture('client.key')) } } : {};
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const client = new Redis({ host: '127.0.0.1', port, ...(password === undefined ? {} : { password }), ...tlsOptions, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      break;
    } catch {
      client.disconnect();
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${port} within ${START_TIMEOUT_MS / 1000} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
