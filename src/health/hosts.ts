/**
 * The hosts of a primary + replicas topology as `status` and `health` print them, and as samples
 * for /metrics.
 */
import type { HostState } from '../engine/types.js';

/** One line: `127.0.0.1:5433  replica  ok  lag 0.0 s (0 bytes)`. */
export function formatHost(h: HostState): string {
  const lag =
    h.role !== 'replica'
      ? ''
      : h.lagSeconds === null
        ? '  lag unknown'
        : `  lag ${h.lagSeconds.toFixed(1)} s (${h.lagBytes ?? '?'} bytes)${h.replayPaused ? ', replay paused' : ''}`;
  return `${h.host.padEnd(22)} ${h.role.padEnd(8)} ${h.state.padEnd(8)}${lag}${h.error ? `  ${h.error}` : ''}`;
}

export interface HostSample {
  readonly host: string;
  readonly role: HostState['role'];
  /** 1 when the host answered. */
  readonly up: 0 | 1;
  /** Replicas: seconds behind the primary; null when unknown or not a replica. */
  readonly lagSeconds: number | null;
}

/** Per-host samples for /metrics (tickvault_host_up{host,role}, tickvault_replica_lag_seconds{host}). */
export function hostSamples(hosts: readonly HostState[]): HostSample[] {
  return hosts.map((h) => ({ host: h.host, role: h.role, up: h.up ? 1 : 0, lagSeconds: h.role === 'replica' ? h.lagSeconds : null }));
}
