// Throwaway PostgreSQL + TimescaleDB cluster for tests and benchmarks (DESIGN.md §5).
//
// Each call to startServerCluster() runs initdb in a fresh temp directory, starts a postmaster on a
// free 127.0.0.1 port with `shared_preload_libraries = timescaledb`, and creates `tickvault_test`.
// It never touches the machine's own cluster (e.g. the one on port 5432). initdb refuses to run as
// root, so when we are root every server-side command runs as the `postgres` OS user, which owns
// the temp directory (data dir, socket dir and log file all live inside it).
//
// Failures are never skipped: every step throws a ServerClusterError that names the step, carries
// the tail of the server log, and points at `npm run setup:server`.
//
// Leftovers are avoided three ways: stop() removes everything; a process 'exit'/SIGINT/SIGTERM/
// SIGHUP hook stops live clusters synchronously; and a tiny detached watchdog shell stops the
// server and removes the directory if the owning process dies without running either (SIGKILL,
// crashed vitest worker). Pass `cleanupOnExit: false` for a cluster that must outlive its process
// (scripts/test-cluster.mjs start).
//
// This module imports only node builtins and `pg`, so scripts/test-cluster.mjs can transpile and
// load it without the rest of the project.

import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export const TEST_DATABASE = 'tickvault_test';
const SETUP_HINT =
  'Run `npm run setup:server` (scripts/setup-timescaledb.sh) to install PostgreSQL server binaries ' +
  'and the TimescaleDB extension, or set TICKVAULT_TEST_SERVER_URL to use an existing server.';

export interface ServerClusterOptions {
  /** Directory holding initdb/pg_ctl/postgres. Default: $TICKVAULT_PG_BINDIR, else the newest /usr/lib/postgresql/<major>/bin, else initdb on PATH. */
  binDir?: string;
  /** Fixed TCP port; default: a free port found by binding 127.0.0.1:0. */
  port?: number;
  /** Extra or overriding server settings, passed as `-c key=value` after the defaults. */
  settings?: Record<string, string | number | boolean>;
  /** Prefix of the temp directory name under os.tmpdir(). Default 'tickvault-pg-'. */
  tmpPrefix?: string;
  /** Stop and remove the cluster when this process exits or is killed (default true). */
  cleanupOnExit?: boolean;
  /** Seconds pg_ctl waits for start/stop (default 60). */
  timeoutSeconds?: number;
  /**
   * Make a streaming standby of this running cluster instead of a new one: `pg_basebackup -R`
   * (standby.signal + primary_conninfo) in place of initdb, and no CREATE DATABASE (the primary's
   * databases arrive with the backup). Settings default to the primary's, with this port.
   */
  standbyOf?: ServerClusterInfo;
}

/** Everything needed to find and control a running cluster again (serialisable). */
export interface ServerClusterInfo {
  url: string;
  port: number;
  /** The temp directory; removed by stop(). */
  dir: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  binDir: string;
  /** The full list of `-c` settings the server is started with. */
  settings: Record<string, string>;
  timeoutSeconds: number;
}

export interface ServerCluster extends ServerClusterInfo {
  /** Stops the server immediately and removes the whole temp directory. Idempotent. */
  stop(): Promise<void>;
  /** Synchronous variant of stop(), usable from a process 'exit' handler. */
  stopSync(): void;
  /** `pg_ctl restart -m fast` on the same port (clients are disconnected, data is kept). */
  restart(): Promise<void>;
  /** `pg_ctl stop -m fast`; the data directory is kept so startServer() can bring it back. */
  stopServer(): Promise<void>;
  /** Starts a server stopped by stopServer() again, on the same port. */
  startServer(): Promise<void>;
  /** Whether the postmaster process is alive. */
  isRunning(): boolean;
  /** SIGKILL of the postmaster: a crash, not a shutdown (its children die when they notice). */
  killPostmaster(): void;
  /** `pg_ctl promote -w` of a standby: it leaves recovery and accepts writes. */
  promote(): Promise<void>;
  /** Last `lines` lines of the server log. */
  logTail(lines?: number): string;
  /** Milliseconds startServerCluster() took (initdb + start + createdb); 0 for a reattached cluster. */
  startupMs: number;
}

export class ServerClusterError extends Error {
  constructor(
    message: string,
    /** What failed: 'binaries', 'timescaledb', 'user', 'tmpdir', 'initdb', 'port', 'start', 'connect', ... */
    readonly step: string,
    /** The temp directory involved (already removed when startServerCluster() fails). */
    readonly dir?: string,
    readonly logTail?: string,
  ) {
    super(message);
    this.name = 'ServerClusterError';
  }
}

// ---------------------------------------------------------------------------------------------
// Locating binaries and the OS user

function newestDebianBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  let majors: string[];
  try {
    majors = readdirSync(root).filter((d) => /^\d+(\.\d+)?$/.test(d));
  } catch {
    return undefined;
  }
  majors.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const m of majors) {
    const bin = path.join(root, m, 'bin');
    if (existsSync(path.join(bin, 'initdb'))) return bin;
  }
  return undefined;
}

function initdbOnPath(): string | undefined {
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) {
    if (d && existsSync(path.join(d, 'initdb'))) return d;
  }
  return undefined;
}

export function findPostgresBinDir(explicit?: string): string {
  const chosen = explicit ?? process.env.TICKVAULT_PG_BINDIR ?? newestDebianBinDir() ?? initdbOnPath();
  if (!chosen) {
    throw new ServerClusterError(
      `PostgreSQL server binaries not found: no /usr/lib/postgresql/<major>/bin/initdb and no initdb on PATH. ${SETUP_HINT}`,
      'binaries',
    );
  }
  for (const tool of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(path.join(chosen, tool))) {
      throw new ServerClusterError(`PostgreSQL binary missing: ${path.join(chosen, tool)} does not exist. ${SETUP_HINT}`, 'binaries');
    }
  }
  return chosen;
}

/** Checks the TimescaleDB library and control file are installed for this PostgreSQL. */
function checkTimescaleInstalled(binDir: string): void {
  let pkglibdir: string | undefined;
  let sharedir: string | undefined;
  const pgConfig = path.join(binDir, 'pg_config');
  if (existsSync(pgConfig)) {
    try {
      pkglibdir = execFileSync(pgConfig, ['--pkglibdir'], { encoding: 'utf8' }).trim();
      sharedir = execFileSync(pgConfig, ['--sharedir'], { encoding: 'utf8' }).trim();
    } catch {
      /* fall through to the server start, whose log will say what is missing */
    }
  }
  if (!pkglibdir || !sharedir) return; // cannot tell without pg_config; the start step will report it
  const lib = path.join(pkglibdir, 'timescaledb.so');
  const control = path.join(sharedir, 'extension', 'timescaledb.control');
  const missing = [lib, control].filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new ServerClusterError(
      `TimescaleDB is not installed for the PostgreSQL in ${binDir}: missing ${missing.join(', ')}. ${SETUP_HINT}`,
      'timescaledb',
    );
  }
}

interface RunAs {
  /** Wraps a command so it runs as the cluster's OS user. */
  wrap(cmd: string, args: string[]): [string, string[]];
  uid?: number;
  gid?: number;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function resolveRunAs(): RunAs {
  if (!isRoot) return { wrap: (cmd, args) => [cmd, args] };
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  } catch {
    throw new ServerClusterError(
      `Running as root but there is no 'postgres' OS user to run initdb/postgres as (initdb refuses root). ${SETUP_HINT}`,
      'user',
    );
  }
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p));
  if (runuser) return { uid, gid, wrap: (cmd, args) => [runuser, ['-u', 'postgres', '--', cmd, ...args]] };
  const su = ['/usr/bin/su', '/bin/su'].find((p) => existsSync(p));
  if (su) {
    return {
      uid,
      gid,
      wrap: (cmd, args) => [su, ['postgres', '-s', '/bin/sh', '-c', [cmd, ...args].map(shellQuote).join(' ')]],
    };
  }
  throw new ServerClusterError("Running as root but neither runuser nor su is available to switch to the 'postgres' user.", 'user');
}

// ---------------------------------------------------------------------------------------------
// Process helpers

/** Environment for server-side tools: no PG* variables from the caller, C locale. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  env.LC_ALL = 'C';
  env.LANG = 'C';
  return env;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function run(runAs: RunAs, cmd: string, args: string[], cwd: string): Promise<RunResult> {
  const [file, argv] = runAs.wrap(cmd, args);
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, output }));
  });
}

function tailOf(text: string, lines: number): string {
  return text
    .split('\n')
    .filter((l, i, a) => l !== '' || i < a.length - 1)
    .slice(-lines)
    .join('\n');
}

function readLogTail(logFile: string, lines = 40): string {
  try {
    return tailOf(readFileSync(logFile, 'utf8'), lines);
  } catch {
    return '(no server log)';
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '', 10);
    return Number.isFinite(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Immediate shutdown by signal (SIGQUIT, then SIGKILL after 5 s); synchronous. */
function killPostmasterSync(dataDir: string): void {
  const pid = postmasterPid(dataDir);
  if (pid === undefined || !pidAlive(pid)) return;
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && pidAlive(pid); i++) sleepSync(50);
  if (pidAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Cleanup on process exit

const live = new Set<ServerCluster>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // Prepended: vitest's own SIGINT/SIGTERM/exit listeners call process.exit(), which ends the
  // process (and skips later 'exit' listeners), so ours must run first.
  process.prependListener('exit', () => {
    for (const c of [...live]) c.stopSync();
  });
  // In a forked worker (vitest pool 'forks'), the IPC channel closes when the parent dies. Vitest
  // leaves such orphaned workers running, so the watchdog (which waits for this pid) would not fire.
  if (typeof process.send === 'function') {
    process.once('disconnect', () => {
      for (const c of [...live]) c.stopSync();
    });
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      for (const c of [...live]) c.stopSync();
      // If ours is the only listener, the signal's default action (terminate) was suppressed by
      // listening: restore it and re-raise. Otherwise the other listeners handle it (vitest exits).
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.prependListener(sig, onSignal);
  }
}

/**
 * A detached shell that waits for `ownerPid` to die, then shuts the postmaster down (SIGQUIT =
 * immediate shutdown) and removes the temp directory. Covers SIGKILL of the owner.
 */
function startWatchdog(ownerPid: number, dataDir: string, dir: string): number | undefined {
  const script = [
    'owner=$1; data=$2; dir=$3',
    'while kill -0 "$owner" 2>/dev/null; do sleep 1; done',
    'if [ -f "$data/postmaster.pid" ]; then',
    '  pid=$(head -n 1 "$data/postmaster.pid")',
    '  if [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null; then',
    '    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done',
    '    kill -KILL "$pid" 2>/dev/null',
    '  fi',
    'fi',
    'rm -rf "$dir"',
  ].join('\n');
  try {
    const child = spawn('/bin/sh', ['-c', script, 'tickvault-pg-watchdog', String(ownerPid), dataDir, dir], {
      detached: true,
      stdio: 'ignore',
    });
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The cluster

function defaultSettings(port: number, socketDir: string): Record<string, string> {
  return {
    port: String(port),
    listen_addresses: '127.0.0.1',
    unix_socket_directories: socketDir,
    shared_preload_libraries: 'timescaledb',
    'timescaledb.telemetry_level': 'off',
    // Durability is pointless for a throwaway test cluster that is deleted afterwards; turning it
    // off makes initdb/DDL/COPY much faster. Never use these settings for real data.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '100',
    max_wal_size: '4GB',
    shared_buffers: '256MB',
  };
}

/** The pg_ctl `-o` string. pg_ctl hands it to /bin/sh, so every value is shell-quoted. */
function serverOptions(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([k, v]) => `-c ${shellQuote(`${k}=${v}`)}`)
    .join(' ');
}

function isPortConflict(log: string): boolean {
  return /could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(log);
}

class Cluster implements ServerCluster {
  url: string;
  port: number;
  dir: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  binDir: string;
  settings: Record<string, string>;
  timeoutSeconds: number;
  startupMs = 0;
  private removed = false;
  private watchdogPid: number | undefined;

  constructor(
    info: ServerClusterInfo,
    private readonly runAs: RunAs,
  ) {
    this.url = info.url;
    this.port = info.port;
    this.dir = info.dir;
    this.dataDir = info.dataDir;
    this.socketDir = info.socketDir;
    this.logFile = info.logFile;
    this.binDir = info.binDir;
    this.settings = info.settings;
    this.timeoutSeconds = info.timeoutSeconds;
  }

  guardOnExit(): void {
    live.add(this);
    installExitHooks();
    this.watchdogPid = startWatchdog(process.pid, this.dataDir, this.dir);
  }

  logTail(lines = 40): string {
    return readLogTail(this.logFile, lines);
  }

  isRunning(): boolean {
    const pid = postmasterPid(this.dataDir);
    return pid !== undefined && pidAlive(pid);
  }

  fail(step: string, what: string, result?: RunResult): never {
    const out = result ? `\n--- ${step} output (exit ${result.code ?? result.signal}) ---\n${tailOf(result.output, 20)}` : '';
    const log = this.logTail();
    throw new ServerClusterError(
      `tickvault test cluster: ${what} (data dir ${this.dataDir}, port ${this.port}).${out}\n--- server log tail (${this.logFile}) ---\n${log}\n${SETUP_HINT}`,
      step,
      this.dir,
      log,
    );
  }

  private pgCtl(args: string[]): Promise<RunResult> {
    return run(this.runAs, path.join(this.binDir, 'pg_ctl'), ['-D', this.dataDir, '-t', String(this.timeoutSeconds), ...args], this.dir);
  }

  /** Starts the postmaster; returns the pg_ctl result (code 0 on success). */
  async pgStart(): Promise<RunResult> {
    return this.pgCtl(['-w', '-l', this.logFile, '-o', serverOptions(this.settings), 'start']);
  }

  async startServer(): Promise<void> {
    if (this.removed) throw new Error('tickvault test cluster: startServer() after stop(): the cluster was removed');
    if (this.isRunning()) return;
    const r = await this.pgStart();
    if (r.code !== 0) this.fail('start', `pg_ctl start failed on port ${this.port}`, r);
  }

  killPostmaster(): void {
    const pid = postmasterPid(this.dataDir);
    if (pid !== undefined && pidAlive(pid)) process.kill(pid, 'SIGKILL');
  }

  async promote(): Promise<void> {
    const r = await this.pgCtl(['-w', 'promote']);
    if (r.code !== 0) this.fail('promote', 'pg_ctl promote failed', r);
  }

  /** pg_basebackup -R from a running primary into this cluster's (not yet existing) data directory. */
  async baseBackup(primary: ServerClusterInfo): Promise<RunResult> {
    return run(
      this.runAs,
      path.join(this.binDir, 'pg_basebackup'),
      [
        '-D',
        this.dataDir,
        '-h',
        '127.0.0.1',
        '-p',
        String(primary.port),
        '-U',
        'postgres',
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
        '--no-sync',
      ],
      this.dir,
    );
  }

  async stopServer(): Promise<void> {
    if (this.removed || !this.isRunning()) return;
    const r = await this.pgCtl(['-w', '-m', 'fast', 'stop']);
    if (r.code !== 0 && this.isRunning()) this.fail('stop', 'pg_ctl stop -m fast failed', r);
  }

  async restart(): Promise<void> {
    if (this.removed) throw new Error('tickvault test cluster: restart() after stop(): the cluster was removed');
    if (!this.isRunning()) return this.startServer();
    const r = await this.pgCtl(['-w', '-m', 'fast', '-l', this.logFile, '-o', serverOptions(this.settings), 'restart']);
    if (r.code !== 0 || !this.isRunning()) this.fail('restart', `pg_ctl restart -m fast failed on port ${this.port}`, r);
  }

  private killWatchdog(): void {
    if (this.watchdogPid !== undefined) {
      try {
        process.kill(this.watchdogPid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      this.watchdogPid = undefined;
    }
  }

  async stop(): Promise<void> {
    if (this.removed) return;
    if (this.isRunning()) {
      await this.pgCtl(['-w', '-m', 'immediate', 'stop']).catch(() => undefined);
      killPostmasterSync(this.dataDir); // no-op unless pg_ctl failed
    }
    this.remove();
  }

  stopSync(): void {
    if (this.removed) return;
    killPostmasterSync(this.dataDir);
    this.remove();
  }

  private remove(): void {
    this.removed = true;
    live.delete(this);
    this.killWatchdog();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates, starts and returns a fresh cluster with database `tickvault_test`.
 * Throws ServerClusterError (and removes the temp directory) when any step fails.
 */
export async function startServerCluster(opts: ServerClusterOptions = {}): Promise<ServerCluster> {
  const t0 = performance.now();
  const binDir = findPostgresBinDir(opts.binDir);
  checkTimescaleInstalled(binDir);
  const runAs = resolveRunAs();
  const timeoutSeconds = opts.timeoutSeconds ?? 60;

  let dir: string;
  try {
    dir = mkdtempSync(path.join(os.tmpdir(), opts.tmpPrefix ?? 'tickvault-pg-'));
    const socketDir = path.join(dir, 'sock');
    mkdirSync(socketDir);
    if (runAs.uid !== undefined && runAs.gid !== undefined) {
      chownSync(dir, runAs.uid, runAs.gid);
      chownSync(socketDir, runAs.uid, runAs.gid);
    }
  } catch (e) {
    throw new ServerClusterError(
      `tickvault test cluster: could not create the temp directory under ${os.tmpdir()}: ${(e as Error).message}`,
      'tmpdir',
    );
  }
  const socketDir = path.join(dir, 'sock');
  if (Buffer.byteLength(path.join(socketDir, '.s.PGSQL.65535')) > 103) {
    rmSync(dir, { recursive: true, force: true });
    throw new ServerClusterError(
      `tickvault test cluster: temp dir path ${dir} is too long for a Unix socket; set TMPDIR to a short path`,
      'tmpdir',
    );
  }

  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  let port = opts.port ?? (await findFreePort());
  const makeInfo = (p: number): ServerClusterInfo => ({
    url: `postgres://postgres@127.0.0.1:${p}/${TEST_DATABASE}`,
    port: p,
    dir,
    dataDir,
    socketDir,
    logFile,
    binDir,
    settings: {
      ...defaultSettings(p, socketDir),
      ...(opts.standbyOf ? { ...opts.standbyOf.settings, port: String(p), unix_socket_directories: socketDir } : {}),
      ...Object.fromEntries(Object.entries(opts.settings ?? {}).map(([k, v]) => [k, String(v)])),
    },
    timeoutSeconds,
  });
  const cluster: Cluster = new Cluster(makeInfo(port), runAs);
  if (opts.cleanupOnExit !== false) cluster.guardOnExit();

  try {
    if (opts.standbyOf) {
      const backup = await cluster.baseBackup(opts.standbyOf);
      if (backup.code !== 0) cluster.fail('basebackup', `pg_basebackup from port ${opts.standbyOf.port} failed`, backup);
    } else {
      const init = await run(
        runAs,
        path.join(binDir, 'initdb'),
        ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'],
        dir,
      );
      if (init.code !== 0) cluster.fail('initdb', `initdb failed (${path.join(binDir, 'initdb')})`, init);
    }

    // A free port can be taken between the probe and the bind; retry a few times with a new one.
    for (let attempt = 1; ; attempt++) {
      const r = await cluster.pgStart();
      if (r.code === 0) break;
      const log = cluster.logTail(15);
      if (opts.port === undefined && attempt < 5 && isPortConflict(log)) {
        port = await findFreePort();
        Object.assign(cluster, makeInfo(port));
        continue;
      }
      cluster.fail('start', 'PostgreSQL failed to start (pg_ctl start)', r);
    }

    const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    let check: { loader: string | null; version: string | null } | undefined;
    try {
      check = await withClient(adminUrl, async (c) => {
        if (!opts.standbyOf) await c.query(`CREATE DATABASE ${TEST_DATABASE}`);
        // timescaledb.disable_load is defined by the preloaded loader library; the extension's
        // default_version comes from the installed control file.
        const res = await c.query<{ loader: string | null; version: string | null }>(
          `SELECT current_setting('timescaledb.disable_load', true) AS loader,
                  (SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb') AS version`,
        );
        return res.rows[0];
      });
    } catch (e) {
      cluster.fail('connect', `could not connect to 127.0.0.1:${port} or create database ${TEST_DATABASE}: ${(e as Error).message}`);
    }
    if (!check?.loader)
      cluster.fail('timescaledb', 'the server started but the timescaledb loader is not preloaded (shared_preload_libraries)');
    if (!check.version)
      cluster.fail('timescaledb', 'the server started but the timescaledb extension is not available (no timescaledb.control)');
  } catch (e) {
    await cluster.stop().catch(() => undefined);
    throw e;
  }
  cluster.startupMs = Math.round(performance.now() - t0);
  return cluster;
}

/**
 * Handle for a cluster started earlier (e.g. by `scripts/test-cluster.mjs start`, which saves
 * `info`). No exit hooks or watchdog are attached.
 */
export function reattachServerCluster(info: ServerClusterInfo): ServerCluster {
  return new Cluster(info, resolveRunAs());
}

/** Serialisable description of a cluster, for reattachServerCluster(). */
export function serverClusterInfo(cluster: ServerCluster): ServerClusterInfo {
  const { url, port, dir, dataDir, socketDir, logFile, binDir, settings, timeoutSeconds } = cluster;
  return { url, port, dir, dataDir, socketDir, logFile, binDir, settings, timeoutSeconds };
}

// ---------------------------------------------------------------------------------------------
// Per-test-file databases

export interface TestDatabase {
  /** Connection URL of the new database (same server, user and options as baseUrl). */
  url: string;
  /** The database name actually created (sanitised name + random suffix). */
  name: string;
  /** DROP DATABASE … WITH (FORCE); idempotent. */
  drop(): Promise<void>;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/**
 * Creates a fresh, empty database (from template0) on the server of `baseUrl`, so test files can
 * run in parallel without seeing each other's tables. `name` is sanitised to [a-z0-9_] and gets a
 * random suffix, so the same name can be used by concurrent runs. Pass `{ timescaledb: true }` to
 * also run CREATE EXTENSION timescaledb in it.
 */
export async function createTestDatabase(baseUrl: string, name: string, opts: { timescaledb?: boolean } = {}): Promise<TestDatabase> {
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'db';
  const suffix = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
  const db = `tv_${base.slice(0, 50)}_${suffix}`;
  await withClient(baseUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(db)} TEMPLATE template0 ENCODING 'UTF8'`));
  const url = withDatabase(baseUrl, db);
  if (opts.timescaledb) {
    await withClient(url, (c) => c.query('CREATE EXTENSION IF NOT EXISTS timescaledb'));
  }
  let dropped = false;
  return {
    url,
    name: db,
    drop: async () => {
      if (dropped) return;
      await dropTestDatabase(baseUrl, db);
      dropped = true;
    },
  };
}

/** Drops a database created by createTestDatabase (terminating its connections). */
export async function dropTestDatabase(baseUrl: string, name: string): Promise<void> {
  await withClient(baseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}
