/**
 * Deterministic test data and an independent reference implementation (plain JS over the rows
 * the test inserted: exact decimals as scaled bigints, microsecond timestamps as bigints).
 */
import { isoToMicros, microsToIso } from '../../src/values/time.js';

export const DAY = '2024-03-04';
export const SYMBOL = 'ESH4';
export const OTHER = 'NQH4';
export const US = { minute: 60_000_000n, hour: 3_600_000_000n, day: 86_400_000_000n } as const;

/** Decimal text → value × 10^scale (exact; the inputs here have at most `scale` decimals). */
export function dec(text: string, scale = 8): bigint {
  const neg = text.startsWith('-');
  const [i, f = ''] = (neg ? text.slice(1) : text).split('.');
  const frac = f.replace(/0+$/, '');
  if (frac.length > scale) throw new Error(`${text} has more than ${scale} decimals`);
  const v = BigInt(i! + frac.padEnd(scale, '0'));
  return neg ? -v : v;
}

export function fmt(v: bigint, scale = 8): string {
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${s.slice(0, -scale)}.${s.slice(-scale)}`;
}

export interface Trade {
  us: bigint;
  symbol: string;
  price: string;
  size: bigint;
  side: 'B' | 'S';
  tradeId: string;
}
export interface Quote {
  us: bigint;
  symbol: string;
  bid: string | null;
  ask: string | null;
}
export interface Bar1m {
  us: bigint;
  symbol: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: bigint;
  granularity: string;
}

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const at = (hhmmss: string, frac = '000000') => isoToMicros(`${DAY}T${hhmmss}.${frac}Z`);

/** Trades 09:00–13:00 with unique timestamps, plus trades exactly on bucket edges. */
export function makeTrades(): Trade[] {
  const r = rng(7);
  const out: Trade[] = [];
  let us = at('09:00:00', '000001');
  let n = 0;
  const push = (t: bigint, symbol = SYMBOL) => {
    n += 1;
    const cents = 450000 + Math.floor(r() * 4000);
    const extra = Math.floor(r() * 100)
      .toString()
      .padStart(2, '0');
    out.push({
      us: t,
      symbol,
      price: `${Math.floor(cents / 100)}.${(cents % 100).toString().padStart(2, '0')}0000${extra}`,
      size: BigInt(1 + Math.floor(r() * 50)),
      side: r() < 0.5 ? 'B' : 'S',
      tradeId: `t${n}`,
    });
  };
  while (us < at('13:00:00')) {
    push(us);
    if (r() < 0.3) push(us + 17n, OTHER);
    us += BigInt(20_000_000 + Math.floor(r() * 40_000_000)) + 7n; // 20–60 s apart, odd microseconds
  }
  // Bucket edges: exactly on the hour, the last microsecond before it, and exactly at 13:00 (= end of the test range).
  push(at('10:00:00'));
  push(at('10:59:59', '999999'));
  push(at('11:15:00'));
  push(at('13:00:00'));
  return out.sort((a, b) => (a.us < b.us ? -1 : a.us > b.us ? 1 : 0));
}

/** Quotes every ~30 s; some with a missing side (NULL spread). */
export function makeQuotes(): Quote[] {
  const r = rng(11);
  const out: Quote[] = [];
  for (let us = at('09:00:00', '000003'); us < at('12:00:00'); us += 30_000_000n + 13n) {
    const bidTicks = 1800000 + Math.floor(r() * 400);
    const spreadTicks = Math.floor(r() * 5); // 0..4 ticks of 0.25 (0 = locked, allowed)
    const bid = fmt((BigInt(bidTicks) * 25n * 1000000n) / 10n);
    const ask = fmt((BigInt(bidTicks) * 25n * 1000000n) / 10n + BigInt(spreadTicks) * 25000000n);
    const missing = r();
    out.push({ us, symbol: SYMBOL, bid: missing < 0.08 ? null : bid, ask: missing > 0.92 ? null : ask });
  }
  out.push({ us: at('10:30:00'), symbol: OTHER, bid: '100.00000000', ask: '999.00000000' });
  return out;
}

/** 1-minute bars 09:00–11:59 plus a few '1h' bars (another granularity must not leak in). */
export function makeBars(): Bar1m[] {
  const r = rng(3);
  const out: Bar1m[] = [];
  for (let us = at('09:00:00'); us < at('12:00:00'); us += US.minute) {
    const o = 4500_00000000n + BigInt(Math.floor(r() * 1_000_000)) * 100n;
    const c = 4500_00000000n + BigInt(Math.floor(r() * 1_000_000)) * 100n;
    const h = (o > c ? o : c) + BigInt(Math.floor(r() * 1000)) * 1000n;
    const l = (o < c ? o : c) - BigInt(Math.floor(r() * 1000)) * 1000n;
    out.push({
      us,
      symbol: SYMBOL,
      open: fmt(o),
      high: fmt(h),
      low: fmt(l),
      close: fmt(c),
      volume: BigInt(Math.floor(r() * 1000)),
      granularity: '1m',
    });
  }
  for (let us = at('09:00:00'); us < at('12:00:00'); us += US.hour) {
    out.push({
      us,
      symbol: SYMBOL,
      open: '1.00000000',
      high: '9999.00000000',
      low: '1.00000000',
      close: '1.00000000',
      volume: 1n,
      granularity: '1h',
    });
  }
  return out;
}

export const iso = microsToIso;

export interface RefBar {
  us: bigint;
  open: bigint;
  high: bigint;
  low: bigint;
  close: bigint;
  volume: bigint;
  count: bigint;
}

/** Reference OHLCV over [startUs, endUs) bucketed by `width` µs (epoch-aligned, like time_bucket for these widths). */
export function refBars<T extends { us: bigint }>(
  rows: readonly T[],
  startUs: bigint,
  endUs: bigint,
  width: bigint,
  get: (r: T) => { open: bigint; high: bigint; low: bigint; close: bigint; volume: bigint },
): RefBar[] {
  const byBucket = new Map<bigint, T[]>();
  for (const row of rows) {
    if (row.us < startUs || row.us >= endUs) continue;
    const b = row.us - (((row.us % width) + width) % width);
    const list = byBucket.get(b) ?? [];
    list.push(row);
    byBucket.set(b, list);
  }
  return [...byBucket.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([b, list]) => {
      const sorted = [...list].sort((x, y) => (x.us < y.us ? -1 : x.us > y.us ? 1 : 0));
      const vals = sorted.map(get);
      return {
        us: b,
        open: vals[0]!.open,
        close: vals[vals.length - 1]!.close,
        high: vals.reduce((m, v) => (v.high > m ? v.high : m), vals[0]!.high),
        low: vals.reduce((m, v) => (v.low < m ? v.low : m), vals[0]!.low),
        volume: vals.reduce((s, v) => s + v.volume, 0n),
        count: BigInt(vals.length),
      };
    });
}
