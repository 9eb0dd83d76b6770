/**
 * One writer per embedded data directory.
 *
 * PGlite works on the database in its own process and writes the directory back as it goes and
 * when it closes: two processes (or two engines in one process) on one directory each see their
 * own copy, and the last one to close silently overwrites the other's work — a load reported as
 * done disappears. So an embedded engine holds an exclusive lock on its directory for its whole
 * life: a lock file beside the directory (`<dir>.lock`; inside it would break PGlite's initdb,
 * which wants an empty directory), created atomically, holding the pid, host and command of its
 * holder so that whoever meets it can say who holds it.
 *
 * A lock whose holder is gone (same host, pid no longer alive) is stale and is taken over. The
 * takeover itself is serialised by a second, short-lived guard file, so two processes that find
 * the same stale lock cannot both win: under the guard the lock is re-read, removed only if it is
 * still the stale one, and re-created exclusively — a process that creates the lock normally in
 * between simply wins and the takeover loses.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TickvaultError, redactUrl } from '../errors.js';

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  /** ISO time the lock was taken. */
  readonly since: string;
}

export interface AcquireOptions {
  /** How long to wait for a held lock before failing; 0 (default) fails at once. */
  readonly waitMs?: number;
  /** Called once when the lock is held by someone else and we start waiting. */
  readonly onWait?: (holder: LockHolder | undefined, lockFile: string) => void;
  /** What the lock file names as the holder's command (default: this process's command line). */
  readonly command?: string;
}

/** The embedded data directory is in use by another process or engine. */
export class DataDirLockedError extends TickvaultError {
  readonly lockFile: string;
  readonly holder: LockHolder | undefined;
  constructor(dataDir: string, lockFile: string, holder: LockHolder | undefined, waitedMs: number) {
    const who = holder ? describeHolder(holder) : 'another process (its lock file cannot be read)';
    super(
      'DATA_DIR_LOCKED',
      `the embedded database at ${dataDir} is in use by ${who}${waitedMs > 0 ? ` (waited ${Math.round(waitedMs / 1000)} s)` : ''}. ` +
        'An embedded database has one process at a time: let it finish (the CLI waits --lock-wait seconds for it), ' +
        `or use a PostgreSQL server (--database-url) when several processes must write at once. If that process is gone, remove ${lockFile}.`,
    );
    this.lockFile = lockFile;
    this.holder = holder;
  }
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on ${h.host} (${h.command || 'unknown command'}) since ${h.since}`;
}

/** The lock file of a data directory; the directory must exist (its real path names the lock). */
export function lockFileFor(dataDir: string): string {
  const real = fs.realpathSync(dataDir);
  return `${real}.lock`;
}

/** Locks held by this process, so two engines here on one directory meet the same rule. */
const heldHere = new Set<string>();

export class DataDirLock {
  private released = false;
  private readonly onExit = (): void => this.releaseSync();

  private constructor(
    readonly lockFile: string,
    private readonly token: string,
  ) {
    heldHere.add(lockFile);
    // A process that exits without closing its engine leaves no lock behind (a killed one leaves a
    // stale lock, which the next opener takes over).
    process.once('exit', this.onExit);
  }

  static async acquire(dataDir: string, options: AcquireOptions = {}): Promise<DataDirLock> {
    const lockFile = lockFileFor(dataDir);
    const waitMs = Math.max(0, options.waitMs ?? 0);
    const started = Date.now();
    let told = false;
    let delay = 25;
    for (;;) {
      const me = selfHolder(options.command);
      const token = JSON.stringify(me);
      if (!heldHere.has(lockFile)) {
        if (tryCreate(lockFile, token)) return new DataDirLock(lockFile, token);
        const holder = readHolder(lockFile);
        if (holder !== 'missing' && isStale(holder) && takeOver(lockFile, holder, token)) return new DataDirLock(lockFile, token);
      }
      const holder = heldHere.has(lockFile) ? selfHolder('another engine in this process') : readHolder(lockFile);
      if (holder === 'missing') continue; // released between our attempt and the read: try again
      const waited = Date.now() - started;
      if (waited >= waitMs) throw new DataDirLockedError(dataDir, lockFile, holder, waited);
      if (!told) {
        told = true;
        options.onWait?.(holder, lockFile);
      }
      await sleep(Math.min(delay, waitMs - waited));
      delay = Math.min(delay * 2, 500);
    }
  }

  /** Removes the lock file if it is still ours. */
  release(): void {
    this.releaseSync();
  }

  private releaseSync(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    heldHere.delete(this.lockFile);
    try {
      if (fs.readFileSync(this.lockFile, 'utf8') === this.token) fs.unlinkSync(this.lockFile);
    } catch {
      // Already gone (removed by hand): nothing of ours is left to remove.
    }
  }
}

function selfHolder(command?: string): LockHolder {
  return { pid: process.pid, host: os.hostname(), command: command ?? processCommand(), since: new Date().toISOString() };
}

function processCommand(): string {
  const [script, ...args] = process.argv.slice(1);
  const name = script ? path.basename(script).replace(/\.js$/, '') : 'node';
  return redactUrl([name === 'main' ? 'tickvault' : name, ...args].join(' ')).slice(0, 200);
}

/** Exclusive create: true when the lock is now ours. */
function tryCreate(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** The lock's holder; undefined when the file exists but is unreadable or half-written. */
function readHolder(file: string): LockHolder | undefined | 'missing' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return undefined;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

/** Only a holder on this host whose pid is gone is stale; another host's lock is never broken. */
function isStale(holder: LockHolder | undefined): holder is LockHolder {
  return holder !== undefined && holder.host === os.hostname() && holder.pid !== process.pid && !pidAlive(holder.pid);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Replaces a stale lock under the takeover guard; false when someone else got there first. */
function takeOver(lockFile: string, stale: LockHolder, token: string): boolean {
  const guard = `${lockFile}.takeover`;
  if (!tryCreate(guard, token)) {
    // A takeover guard whose own holder died mid-takeover would block every later takeover.
    const g = readHolder(guard);
    if (g !== 'missing' && isStale(g)) removeIfUnchanged(guard, g);
    return false;
  }
  try {
    const now = readHolder(lockFile);
    if (now !== 'missing' && (now === undefined || now.pid !== stale.pid || now.since !== stale.since)) return false;
    if (now !== 'missing') fs.rmSync(lockFile, { force: true });
    return tryCreate(lockFile, token);
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

function removeIfUnchanged(file: string, seen: LockHolder): void {
  const again = readHolder(file);
  if (again !== 'missing' && again !== undefined && again.pid === seen.pid && again.since === seen.since) fs.rmSync(file, { force: true });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(1, ms)));
}
