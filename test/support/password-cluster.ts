import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServerCluster, type ServerCluster } from './server-cluster.js';

/**
 * A private cluster where TCP logins need a password (scram-sha-256), except the `postgres`
 * superuser the harness itself uses. The throwaway clusters are trust-only by default, where a
 * wrong password would still get in.
 */
export async function startPasswordCluster(prefix: string): Promise<ServerCluster> {
  const cluster = await startServerCluster({ tmpPrefix: prefix, settings: { password_encryption: 'scram-sha-256' } });
  const hba = path.join(cluster.dataDir, 'pg_hba.conf');
  const original = readFileSync(hba, 'utf8');
  writeFileSync(
    hba,
    [
      'local all all trust',
      'host all postgres 127.0.0.1/32 trust',
      'host all all 127.0.0.1/32 scram-sha-256',
      '# original:',
      ...original.split('\n').map((l) => `# ${l}`),
      '',
    ].join('\n'),
  );
  await cluster.restart();
  return cluster;
}

export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}
