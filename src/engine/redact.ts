/**
 * Keeping credentials out of every message. `redactUrl` (errors.ts) removes passwords from
 * anything shaped like a URL or conninfo; `SecretScrubber` additionally removes the literal
 * password of the engine's own URL (raw and percent-decoded) wherever it appears — an error from
 * a driver, a log line, a cause deep in a chain — because a password can show up outside any URL.
 */
import { redactUrl } from '../errors.js';

const MASK = '***';

export class SecretScrubber {
  readonly #secrets: string[];

  constructor(secrets: readonly (string | undefined)[]) {
    const all = new Set<string>();
    for (const s of secrets) {
      // Very short "secrets" would mangle ordinary text; a 1-2 character password is not worth hiding that way.
      if (s && s.length >= 3) {
        all.add(s);
        try {
          all.add(decodeURIComponent(s));
        } catch {
          /* not percent-encoded */
        }
        all.add(encodeURIComponent(s));
      }
    }
    // Longest first, so a secret containing another is removed whole.
    this.#secrets = [...all].sort((a, b) => b.length - a.length);
  }

  /** The secrets of a database URL: its password (username is not secret). */
  static forUrl(url: string): SecretScrubber {
    const secrets: string[] = [];
    try {
      const u = new URL(url);
      if (u.password) secrets.push(u.password);
      const p = u.searchParams.get('password');
      if (p) secrets.push(p);
    } catch {
      const m = /:\/\/[^:@/\s]*:([^@\s]+)@/.exec(url);
      if (m?.[1]) secrets.push(m[1]);
    }
    return new SecretScrubber(secrets);
  }

  scrub(text: string): string {
    let out = redactUrl(text);
    for (const s of this.#secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  }

  /**
   * Rewrites, in place, the message (and stack) of `err` and of every error in its cause chain
   * so none holds a secret; returns `err` for rethrowing.
   */
  scrubError<T>(err: T): T {
    const seen = new Set<unknown>();
    for (let e: unknown = err; e !== null && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
      seen.add(e);
      for (const field of ['message', 'stack', 'detail', 'hint', 'where', 'internalQuery'] as const) {
        const v = (e as Record<string, unknown>)[field];
        if (typeof v === 'string') {
          const clean = this.scrub(v);
          if (clean !== v) {
            try {
              Object.defineProperty(e, field, {
                value: clean,
                writable: true,
                configurable: true,
                enumerable: field !== 'message' && field !== 'stack',
              });
            } catch {
              /* frozen: nothing more we can do */
            }
          }
        }
      }
    }
    return err;
  }
}
