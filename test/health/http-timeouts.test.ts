/**
 * `tickvault serve` disconnects a client that never finishes its request headers within the
 * headers timeout (default 5 s; Node's own default is 60 s, checked every 30 s), and a complete
 * request on another connection meanwhile is answered.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { DEFAULT_HEADERS_TIMEOUT_MS, startHealthServer, type HealthServer } from '../../src/health/http.js';

let engine: EmbeddedEngine;
let server: HealthServer;
beforeAll(async () => {
  engine = await EmbeddedEngine.open({ dataDir: 'memory://' });
  server = await startHealthServer(engine, { port: 0 });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await engine?.close();
});

/** Opens a connection, sends `bytes`, and resolves with the ms until the server closes it. */
function closedAfter(bytes: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Date.now() - t0));
    setTimeout(() => {
      socket.destroy();
      reject(new Error('still open after 20 s'));
    }, 20_000);
  });
}

describe('serve: slow clients', () => {
  it('a client stuck in its headers is disconnected within a few seconds of the headers timeout', async () => {
    const slow = closedAfter('GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    const res = await fetch(`${server.url}/nope`);
    expect(res.status).toBe(404);
    const ms = await slow;
    expect(ms).toBeGreaterThanOrEqual(DEFAULT_HEADERS_TIMEOUT_MS - 100);
    expect(ms).toBeLessThan(DEFAULT_HEADERS_TIMEOUT_MS + 3_000);
  }, 30_000);
});
