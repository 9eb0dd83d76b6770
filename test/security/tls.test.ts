// TLS pass-through against a PRIVATE cluster with ssl=on and a certificate from a throwaway CA.
import { execFileSync } from 'node:child_process';
import { chownSync, chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerEngine } from '../../src/engine/server.js';
import { resolveEngineSettings } from '../../src/config/settings.js';
import { ConnectionError } from '../../src/errors.js';
import { startServerCluster, type ServerCluster } from '../support/server-cluster.js';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function makeCa(dir: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ],
    dir,
  );
}

describe('TLS (private cluster with ssl=on)', () => {
  let dir: string;
  let cluster: ServerCluster;
  let ca: string;
  let otherCa: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tv-tls-'));
    makeCa(dir, 'ca');
    makeCa(dir, 'other-ca');
    openssl(
      [
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        'server.key',
        '-out',
        'server.csr',
        '-subj',
        '/CN=127.0.0.1',
      ],
      dir,
    );
    writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.crt',
        '-days',
        '2',
        '-extfile',
        'ext.cnf',
      ],
      dir,
    );
    ca = path.join(dir, 'ca.crt');
    otherCa = path.join(dir, 'other-ca.crt');
    // The server runs as `postgres` when we are root; its key must be its own and private.
    chmodSync(dir, 0o755);
    chmodSync(path.join(dir, 'server.key'), 0o600);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(path.join(dir, 'server.key'), uid, gid);
      chownSync(path.join(dir, 'server.crt'), uid, gid);
    }
    cluster = await startServerCluster({
      tmpPrefix: 'tv-tls-pg-',
      settings: { ssl: 'on', ssl_cert_file: path.join(dir, 'server.crt'), ssl_key_file: path.join(dir, 'server.key') },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const sslInUse = async (url: string, env: NodeJS.ProcessEnv = {}) => {
    const engine = new ServerEngine({
      url,
      settings: resolveEngineSettings({ code: { poolSize: 1, maxOverflow: 0, poolTimeout: 10 }, env, useFile: false }),
      log: () => undefined,
    });
    try {
      const { rows } = await engine.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      return rows[0]!.ssl;
    } finally {
      await engine.close();
    }
  };

  it('sslmode=verify-full with TICKVAULT_SSL_CA_FILE connects over verified TLS', async () => {
    expect(await sslInUse(`${cluster.url}?sslmode=verify-full`, { TICKVAULT_SSL_CA_FILE: ca })).toBe(true);
  });

  it('sslrootcert in the URL works the same way; a CA file alone implies verify-full', async () => {
    expect(await sslInUse(`${cluster.url}?sslmode=verify-ca&sslrootcert=${encodeURIComponent(ca)}`)).toBe(true);
    expect(await sslInUse(cluster.url, { TICKVAULT_SSL_CA_FILE: ca })).toBe(true);
  });

  it('a certificate from another CA is refused with a ConnectionError', async () => {
    const err = await sslInUse(`${cluster.url}?sslmode=verify-full`, { TICKVAULT_SSL_CA_FILE: otherCa }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(/cannot connect to .*(certificate|self[- ]signed)/i);
  });

  it('require encrypts without verifying; disable and no sslmode stay plain', async () => {
    expect(await sslInUse(`${cluster.url}?sslmode=require`)).toBe(true);
    expect(await sslInUse(`${cluster.url}?sslmode=disable`, { TICKVAULT_SSL_CA_FILE: ca })).toBe(false);
    expect(await sslInUse(cluster.url)).toBe(false);
  });
});
