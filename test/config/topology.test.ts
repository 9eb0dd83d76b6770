import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../src/config/connection.js';
import { resolveEngineSettings } from '../../src/config/settings.js';
import { parseDurationSeconds, splitHosts, topologyHosts } from '../../src/config/topology.js';
import { ClusterEngine } from '../../src/engine/cluster.js';
import { createServerTarget, openEngine } from '../../src/engine/open.js';
import { ServerEngine } from '../../src/engine/server.js';
import { ConfigError } from '../../src/errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tv-topology-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function configDir(name: string, value: unknown): string {
  const d = fs.mkdtempSync(path.join(dir, name));
  fs.writeFileSync(path.join(d, 'tickvault.config.json'), JSON.stringify(value));
  return d;
}

describe('multi-host URLs (libpq syntax)', () => {
  it('one single-host URL per host, credentials, database and parameters kept', () => {
    expect(splitHosts('postgres://u:pw@h1:5432,h2:5433,[::1]:5434/db?sslmode=disable')).toEqual([
      'postgres://u:pw@h1:5432/db?sslmode=disable',
      'postgres://u:pw@h2:5433/db?sslmode=disable',
      'postgres://u:pw@[::1]:5434/db?sslmode=disable',
    ]);
    expect(splitHosts('postgres://u@h1:5432/db')).toEqual(['postgres://u@h1:5432/db']);
    expect(() => splitHosts('postgres://u@h1:5432,,h2/db')).toThrow(ConfigError);
  });

  it('a multi-host URL is a valid server target; a bad host in it is a ConfigError', () => {
    expect(resolveTarget({ databaseUrl: 'postgres://u@h1:1,h2:2/db' }, {})).toEqual({ kind: 'server', url: 'postgres://u@h1:1,h2:2/db' });
    expect(() => resolveTarget({ databaseUrl: 'postgres://u@h1:1,h2:notaport/db' }, {})).toThrow(ConfigError);
  });

  it('the hosts of URL and replica URLs, each once, in order (a host named twice is one host)', () => {
    const hosts = topologyHosts('postgres://u@a:1,b:2/db', ['postgres://u@b:2/db', 'postgres://u@c:3/db']);
    expect(hosts).toEqual(['postgres://u@a:1/db', 'postgres://u@b:2/db', 'postgres://u@c:3/db']);
  });

  it('one host → the plain server engine; several → the cluster engine (not connected)', async () => {
    const one = createServerTarget('postgres://u@127.0.0.1:1/db', { replicaUrls: ['postgres://u@127.0.0.1:1/db'] });
    const many = createServerTarget('postgres://u:secret@127.0.0.1:1,127.0.0.1:2/db');
    expect(one).toBeInstanceOf(ServerEngine);
    expect(many).toBeInstanceOf(ClusterEngine);
    expect(many.location).toBe('postgres://u@127.0.0.1:1,127.0.0.1:2/db');
    await Promise.all([one.close(), many.close()]);
  });
});

describe('replica settings: code > env > file > defaults, like the pool keys', () => {
  it('defaults: no replicas, 5 s lag bound, read-your-writes off', () => {
    expect(resolveEngineSettings({ env: {}, useFile: false }).replicas).toEqual({
      replicaUrls: [],
      maxReplicaLagSeconds: 5,
      readYourWrites: 'off',
    });
  });

  it('each key from its own source', () => {
    const cwd = configDir('prec', { replicas: { urls: ['postgres://u@file:1/db'], maxLag: '2m', readYourWrites: 'primary' } });
    const fromFile = resolveEngineSettings({ cwd, env: {} }).replicas;
    expect(fromFile).toEqual({ replicaUrls: ['postgres://u@file:1/db'], maxReplicaLagSeconds: 120, readYourWrites: 'primary' });
    const fromEnv = resolveEngineSettings({
      cwd,
      env: { TICKVAULT_REPLICA_URLS: 'postgres://u@e1:1,e2:2/db, postgres://u@e3:3/db', TICKVAULT_MAX_REPLICA_LAG: '500ms' },
    }).replicas;
    // A URL in the comma-separated list may itself be a host list: a new URL starts at its scheme.
    expect(fromEnv).toEqual({
      replicaUrls: ['postgres://u@e1:1,e2:2/db', 'postgres://u@e3:3/db'],
      maxReplicaLagSeconds: 0.5,
      readYourWrites: 'primary',
    });
    const fromCode = resolveEngineSettings({
      cwd,
      env: { TICKVAULT_REPLICA_URLS: 'postgres://u@e:1/db', TICKVAULT_READ_YOUR_WRITES: 'off' },
      replicas: { replicaUrls: ['postgres://u@code:1/db'], maxReplicaLag: 7, readYourWrites: 'wait' },
    }).replicas;
    expect(fromCode).toEqual({ replicaUrls: ['postgres://u@code:1/db'], maxReplicaLagSeconds: 7, readYourWrites: 'wait' });
    // An empty list in code (no --replica-url given) does not hide the environment.
    expect(
      resolveEngineSettings({ env: { TICKVAULT_REPLICA_URLS: 'postgres://u@e:1/db' }, useFile: false, replicas: { replicaUrls: [] } })
        .replicas.replicaUrls,
    ).toEqual(['postgres://u@e:1/db']);
  });

  it('bad values name the key and where it came from', () => {
    expect(() => resolveEngineSettings({ env: { TICKVAULT_MAX_REPLICA_LAG: 'soon' }, useFile: false })).toThrow(
      /TICKVAULT_MAX_REPLICA_LAG/,
    );
    expect(() => resolveEngineSettings({ env: { TICKVAULT_READ_YOUR_WRITES: 'maybe' }, useFile: false })).toThrow(/off, wait, primary/);
    const cwd = configDir('bad', { replicas: { urls: 'postgres://u@x:1/db', extra: 1 } });
    expect(() => resolveEngineSettings({ cwd, env: {} })).toThrow(/unknown key "replicas.extra"/);
    const cwd2 = configDir('bad2', { replicas: { urls: [42] } });
    expect(() => resolveEngineSettings({ cwd: cwd2, env: {} })).toThrow(/"replicas.urls" in .* must be a list/);
    expect(parseDurationSeconds('1.5s', 'x')).toBe(1.5);
    expect(() => parseDurationSeconds(-1, 'x')).toThrow(ConfigError);
  });

  it('a replica URL with an embedded target is a configuration error', async () => {
    await expect(openEngine({ databaseUrl: 'memory://', replicaUrls: ['postgres://u@h:1/db'] })).rejects.toThrow(
      /embedded engine has no replicas/,
    );
  });
});
