/**
 * The as-of join on both engines: hand-built cases with the expected rows written out, then
 * equality with the obvious LATERAL query on generated data with many ties, on uncompressed and
 * (where the tier has compression) compressed chunks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { TBBOLoader, TradesLoader } from '../../src/load/loaders.js';
import { asOfJoin, midPrice, type AsOfJoinOptions, type AsOfJoinRow } from '../../src/query/index.js';
import { compressChunk, listChunks } from '../../src/timescale/chunks.js';
import { QueryError } from '../../src/errors.js';
import type { Engine } from '../../src/engine/types.js';
import { isoToMicros, microsToIso } from '../../src/values/time.js';
import { END, ES, NQ, QUOTES, START, TRADES } from '../support/asof-join-data.js';

/** A row as [trade time, symbol, trade id, quote time, bid, ask, bid size, ask size, sequence, age µs, mid, ...markouts]. */
type Flat = (string | null)[];
function flat(r: AsOfJoinRow): Flat {
  const q = r.quote;
  return [
    microsToIso(r.timeUs),
    r.symbol,
    r.tradeId,
    q ? microsToIso(q.timeUs) : null,
    q?.bid ?? null,
    q?.ask ?? null,
    q?.bidSize?.toString() ?? null,
    q?.askSize?.toString() ?? null,
    q?.sequence?.toString() ?? null,
    q ? q.ageUs.toString() : null,
    q?.mid ?? null,
    ...r.markouts,
  ];
}

async function collect(
  engine: Engine,
  symbols: string | string[],
  options: AsOfJoinOptions = {},
  start = START,
  end = END,
): Promise<Flat[]> {
  const out: Flat[] = [];
  for await (const r of asOfJoin(engine, symbols, start, end, options)) out.push(flat(r));
  return out;
}

const Q1 = ['2024-03-04T09:59:59.000000Z', '100.25000000', '100.50000000', '5', '6', '10'];
const Q2 = ['2024-03-04T09:59:59.500000Z', '100.00000001', '100.75000000', '1', '2', '3'];
const Q3 = ['2024-03-04T10:00:01.000000Z', '100.50000000', '100.75000000', '3', '4', '20'];
const Q4 = ['2024-03-04T10:00:01.000000Z', '100.00000000', '101.00000000', '7', '8', '21'];
const Q5 = ['2024-03-04T10:00:03.000000Z', '101.00000000', null, '9', null, '30'];
const Q6 = ['2024-03-04T10:00:05.000000Z', '100.50000000', '101.25000000', '1', '1', '4'];
const QN = ['2024-03-04T10:00:02.000000Z', '18000.25000000', '18000.50000000', '2', '3', '1'];
const NONE = [null, null, null, null, null, null, null, null];

// Backward, no tolerance, markouts 1 s and 2 s. Order: time, then symbol as listed (ES, NQ), then
// the trade's venue sequence ('2:50' before '1:101', '1:99' before '1:102').
const BACKWARD: Flat[] = [
  ['2024-03-04T09:59:58.000000Z', ES, '1:100', ...NONE, '100.37500000', '100.37500000'],
  ['2024-03-04T10:00:00.000001Z', ES, '2:50', ...Q2, '500001', '100.375000005', '100.375000005', '100.375000005'],
  ['2024-03-04T10:00:00.000001Z', ES, '1:101', ...Q1, '1000001', '100.37500000', '100.50000000', '100.50000000'],
  ['2024-03-04T10:00:01.000000Z', ES, '1:99', ...Q4, '0', '100.50000000', '100.50000000', null],
  ['2024-03-04T10:00:01.000000Z', ES, '1:102', ...Q4, '0', '100.50000000', '100.50000000', null],
  ['2024-03-04T10:00:01.000000Z', NQ, '1:7', ...NONE, '18000.37500000', '18000.37500000'],
  ['2024-03-04T10:00:03.500000Z', ES, '1:103', ...Q5, '500000', null, null, null],
  ['2024-03-04T10:00:04.000000Z', ES, '2:51', ...Q2, '4500000', '100.375000005', '100.87500000', '100.87500000'],
];

describe.each(ENGINE_KINDS)('asOfJoin on %s', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'asofjoin' });
    const engine = t.engine;
    await new TBBOLoader({ engine }).storeBatch(QUOTES.map(({ ts, ...q }) => ({ timestamp: ts, ...q })));
    await new TradesLoader({ engine }).storeBatch(TRADES.map(({ ts, ...x }) => ({ timestamp: ts, ...x })));
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('backward: same-µs quote counts, highest sequence wins, no quote yet is null, each venue its own quote, across a chunk boundary; markouts', async () => {
    expect(await collect(t.engine, [ES, NQ], { markouts: ['1s', '2 seconds'] })).toEqual(BACKWARD);
  });

  it('tolerance: a quote older than Δ is null (the quote and the markouts)', async () => {
    const got = await collect(t.engine, [ES, NQ], { tolerance: '2s', markouts: ['1s', '2s'] });
    expect(got).toEqual([
      ['2024-03-04T09:59:58.000000Z', ES, '1:100', ...NONE, '100.37500000', '100.37500000'],
      ['2024-03-04T10:00:00.000001Z', ES, '2:50', ...Q2, '500001', '100.375000005', '100.375000005', null], // +2 s: Q2 is 2.500001 s old
      ['2024-03-04T10:00:00.000001Z', ES, '1:101', ...Q1, '1000001', '100.37500000', '100.50000000', '100.50000000'],
      ['2024-03-04T10:00:01.000000Z', ES, '1:99', ...Q4, '0', '100.50000000', '100.50000000', null],
      ['2024-03-04T10:00:01.000000Z', ES, '1:102', ...Q4, '0', '100.50000000', '100.50000000', null],
      ['2024-03-04T10:00:01.000000Z', NQ, '1:7', ...NONE, '18000.37500000', '18000.37500000'],
      ['2024-03-04T10:00:03.500000Z', ES, '1:103', ...Q5, '500000', null, null, null],
      ['2024-03-04T10:00:04.000000Z', ES, '2:51', ...NONE, '100.87500000', '100.87500000'], // Q2 is 4.5 s old
    ]);
    // Exactly Δ old is still a match (inclusive).
    const edge = await collect(t.engine, ES, { tolerance: '1000001 us' }, '2024-03-04T10:00:00.000001Z', '2024-03-04T10:00:00.000002Z');
    expect(edge.map((r) => r[3])).toEqual([Q2[0], Q1[0]]);
    const tight = await collect(t.engine, ES, { tolerance: '1 second' }, '2024-03-04T10:00:00.000001Z', '2024-03-04T10:00:00.000002Z');
    expect(tight.map((r) => r[3])).toEqual([Q2[0], null]);
  });

  it('forward: the first quote at or after the trade (same µs counts, lowest sequence first), ages negative', async () => {
    expect(await collect(t.engine, [ES, NQ], { direction: 'forward' })).toEqual([
      ['2024-03-04T09:59:58.000000Z', ES, '1:100', ...Q1, '-1000000', '100.37500000'],
      ['2024-03-04T10:00:00.000001Z', ES, '2:50', ...Q6, '-4999999', '100.87500000'],
      ['2024-03-04T10:00:00.000001Z', ES, '1:101', ...Q3, '-999999', '100.62500000'],
      ['2024-03-04T10:00:01.000000Z', ES, '1:99', ...Q3, '0', '100.62500000'],
      ['2024-03-04T10:00:01.000000Z', ES, '1:102', ...Q3, '0', '100.62500000'],
      ['2024-03-04T10:00:01.000000Z', NQ, '1:7', ...QN, '-1000000', '18000.37500000'],
      ['2024-03-04T10:00:03.500000Z', ES, '1:103', ...NONE], // no later quote on venue 1
      ['2024-03-04T10:00:04.000000Z', ES, '2:51', ...Q6, '-1000000', '100.87500000'],
    ]);
    const tol = await collect(t.engine, ES, { direction: 'forward', tolerance: '1s' });
    expect(tol.map((r) => [r[2], r[3]])).toEqual([
      ['1:100', Q1[0]],
      ['2:50', null],
      ['1:101', Q3[0]],
      ['1:99', Q3[0]],
      ['1:102', Q3[0]],
      ['1:103', null],
      ['2:51', Q6[0]],
    ]);
  });

  it('one venue, a range, a limit', async () => {
    const v2 = await collect(t.engine, ES, { publisherId: 2 });
    expect(v2.map((r) => [r[2], r[3]])).toEqual([
      ['2:50', Q2[0]],
      ['2:51', Q2[0]],
    ]);
    // A range starting after the quotes: the first trades still get the last quote before it.
    const late = await collect(t.engine, ES, {}, '2024-03-04T10:00:03Z', END);
    expect(late.map((r) => [r[2], r[3]])).toEqual([
      ['1:103', Q5[0]],
      ['2:51', Q2[0]],
    ]);
    expect((await collect(t.engine, [ES, NQ], { limit: 3 })).map((r) => r[2])).toEqual(['1:100', '2:50', '1:101']);
    expect(await collect(t.engine, ES, {}, '2024-03-05T00:00:00Z', '2024-03-06T00:00:00Z')).toEqual([]);
  });

  it('refuses bad arguments with QueryError', async () => {
    const run = (symbols: string | string[], o: AsOfJoinOptions, start = START, end = END) => collect(t.engine, symbols, o, start, end);
    await expect(run([], {})).rejects.toThrow(QueryError);
    await expect(run([ES, ES], {})).rejects.toThrow(/twice/);
    await expect(run(ES, { tolerance: 'soon' })).rejects.toThrow(/tolerance/);
    await expect(run(ES, { markouts: ['1 month'] })).rejects.toThrow(/fixed length/);
    await expect(run(ES, { direction: 'sideways' as 'forward' })).rejects.toThrow(/direction/);
    await expect(run(ES, {}, END, START)).rejects.toThrow(/before start/);
    await expect(run(ES, { limit: 0 })).rejects.toThrow(/limit/);
  });

  it('the same rows from compressed chunks (where the tier has compression)', async () => {
    const caps = await t.engine.capabilities();
    if (!caps.compression) {
      expect(caps.tier).toBe('timescaledb-apache'); // the server cluster's Apache build: no compression to test
      return;
    }
    for (const table of ['trades_data', 'tbbo_data']) {
      for (const c of await listChunks(t.engine, table)) await compressChunk(t.engine, c.chunk);
      expect((await listChunks(t.engine, table)).every((c) => c.compressed)).toBe(true);
    }
    expect(await collect(t.engine, [ES, NQ], { markouts: ['1s', '2 seconds'] })).toEqual(BACKWARD);
    const fwd = await collect(t.engine, ES, { direction: 'forward' });
    expect(fwd.map((r) => r[3])).toEqual([Q1[0], Q6[0], Q3[0], Q3[0], Q3[0], null, Q6[0]]);
  });
});

it('midPrice is exact decimal arithmetic', () => {
  expect(midPrice('4512.25000000', '4512.50000000')).toBe('4512.37500000');
  expect(midPrice('0.00000001', '0.00000002')).toBe('0.000000015');
  expect(midPrice('99999999999.99999999', '99999999999.99999999')).toBe('99999999999.99999999');
  expect(midPrice('1', '2.5')).toBe('1.75');
  expect(midPrice(null, '1')).toBeNull();
});

// ---------------------------------------------------------------------------------------------
// Equality with the LATERAL query on generated data: one symbol over two 1-hour chunks, two
// venues and two instruments, timestamps on a coarse grid (many trades and quotes share a
// microsecond), sequences shuffled, some quotes without a sequence, some trade ids not DBN's.

const GEN = 'GEN.FUT';
const GEN_START = '2024-03-05T09:30:00Z';
const GEN_END = '2024-03-05T10:30:00Z';

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

async function generate(engine: Engine, trades: number, quotes: number): Promise<void> {
  const r = rng(42);
  const base = isoToMicros('2024-03-05T09:00:00Z');
  const grid = () => base + BigInt(Math.floor(r() * 1500)) * 2_400_000n; // 1500 instants over 09:00–10:00 and beyond
  const venue = () => (r() < 0.6 ? [11, 1] : r() < 0.7 ? [11, 2] : [12, 1]);
  const q = {
    ts: [] as string[],
    inst: [] as number[],
    pub: [] as number[],
    seq: [] as (number | null)[],
    bid: [] as (string | null)[],
    ask: [] as (string | null)[],
    bsz: [] as (number | null)[],
    asz: [] as (number | null)[],
  };
  for (let i = 0; i < quotes; i++) {
    const [inst, pub] = venue();
    const bidTicks = 40000 + Math.floor(r() * 40);
    q.ts.push(microsToIso(grid()));
    q.inst.push(inst!);
    q.pub.push(pub!);
    q.seq.push(r() < 0.1 ? null : Math.floor(r() * 1_000_000));
    q.bid.push(r() < 0.05 ? null : (bidTicks / 4).toFixed(2) + (r() < 0.3 ? '000001' : ''));
    q.ask.push(r() < 0.05 ? null : ((bidTicks + 1 + Math.floor(r() * 3)) / 4).toFixed(2));
    q.bsz.push(1 + Math.floor(r() * 3));
    q.asz.push(1 + Math.floor(r() * 3));
  }
  await engine.query(
    `INSERT INTO tbbo_data ("timestamp", instrument_id, symbol, publisher_id, sequence, bid_px_00, ask_px_00, bid_sz_00, ask_sz_00)
     SELECT ts, inst, $9, pub, seq, bid, ask, bsz, asz
       FROM unnest($1::timestamptz[], $2::int[], $3::int[], $4::int8[], $5::numeric[], $6::numeric[], $7::int8[], $8::int8[]) AS u(ts, inst, pub, seq, bid, ask, bsz, asz)`,
    [q.ts, q.inst, q.pub, q.seq, q.bid, q.ask, q.bsz, q.asz, GEN],
  );
  const t = {
    ts: [] as string[],
    inst: [] as number[],
    pub: [] as number[],
    id: [] as (string | null)[],
    price: [] as string[],
    size: [] as number[],
    side: [] as string[],
  };
  for (let i = 0; i < trades; i++) {
    const [inst, pub] = venue();
    t.ts.push(microsToIso(grid() + 1_800_000_000n));
    t.inst.push(inst!);
    t.pub.push(pub!); // 09:30–10:30 (and a little past it)
    const k = r();
    // Ids that are not DBN's: none, empty, with commas (the join reads each row as one text).
    t.id.push(k < 0.05 ? null : k < 0.06 ? '' : k < 0.07 ? `x,${i},=` : k < 0.1 ? `x${i}` : `${pub}:${Math.floor(r() * 1_000_000)}`);
    t.price.push((10000 + Math.floor(r() * 10) / 4).toFixed(2));
    t.size.push(1 + Math.floor(r() * 5));
    t.side.push(r() < 0.5 ? 'B' : 'S');
  }
  await engine.query(
    `INSERT INTO trades_data ("timestamp", instrument_id, symbol, publisher_id, trade_id, price, size, side)
     SELECT ts, inst, $8, pub, id, price, size, side
       FROM unnest($1::timestamptz[], $2::int[], $3::int[], $4::text[], $5::numeric[], $6::int8[], $7::text[]) AS u(ts, inst, pub, id, price, size, side)`,
    [t.ts, t.inst, t.pub, t.id, t.price, t.size, t.side, GEN],
  );
  await engine.query('ANALYZE trades_data');
  await engine.query('ANALYZE tbbo_data');
}

/** NUMERIC text without trailing zeros (PostgreSQL's (a+b)/2 prints more decimals than the mid). */
const norm = (v: string | null) => (v === null || !v.includes('.') ? v : v.replace(/0+$/, '').replace(/\.$/, ''));

/** The obvious SQL: one LATERAL probe per trade (and per markout), written independently of the module. */
async function lateral(engine: Engine, forward: boolean, toleranceUs: bigint | null, markoutsUs: readonly bigint[]): Promise<Flat[]> {
  const tol = toleranceUs === null ? null : `${toleranceUs} microseconds`;
  const probe = (at: string, fwd: boolean) => `
    SELECT (extract(epoch FROM q."timestamp") * 1000000)::int8 AS q_us, q.bid_px_00, q.ask_px_00, q.bid_sz_00, q.ask_sz_00, q.sequence
      FROM tbbo_data q
     WHERE q.symbol = t.symbol AND q.instrument_id = t.instrument_id AND q.publisher_id = t.publisher_id
       AND ${
         fwd
           ? `q."timestamp" >= ${at} AND ($4::interval IS NULL OR q."timestamp" <= ${at} + $4::interval)`
           : `q."timestamp" <= ${at} AND ($4::interval IS NULL OR q."timestamp" >= ${at} - $4::interval)`
       }
     ORDER BY ${
       fwd
         ? 'q."timestamp", q.sequence NULLS FIRST, q.bid_px_00 NULLS FIRST, q.ask_px_00 NULLS FIRST, q.bid_sz_00 NULLS FIRST, q.ask_sz_00 NULLS FIRST'
         : 'q."timestamp" DESC, q.sequence DESC NULLS LAST, q.bid_px_00 DESC NULLS LAST, q.ask_px_00 DESC NULLS LAST, q.bid_sz_00 DESC NULLS LAST, q.ask_sz_00 DESC NULLS LAST'
     }
     LIMIT 1`;
  const marks = markoutsUs
    .map((d, i) => `LEFT JOIN LATERAL (${probe(`t."timestamp" + interval '${d} microseconds'`, false)}) m${i} ON true`)
    .join('\n');
  const markCols = markoutsUs.map((_d, i) => `, (m${i}.bid_px_00 + m${i}.ask_px_00) / 2 AS mark${i}`).join('');
  const { rows } = await engine.query<Record<string, string | null>>(
    `SELECT (extract(epoch FROM t."timestamp") * 1000000)::int8 AS t_us, t.trade_id, q.*, (q.bid_px_00 + q.ask_px_00) / 2 AS mid${markCols}
       FROM trades_data t
       LEFT JOIN LATERAL (${probe('t."timestamp"', forward)}) q ON true
       ${marks}
      WHERE t.symbol = $1 AND t."timestamp" >= $2::timestamptz AND t."timestamp" < $3::timestamptz
      ORDER BY t."timestamp", CASE WHEN t.trade_id ~ '^[0-9]{1,10}:[0-9]{1,18}$' THEN split_part(t.trade_id, ':', 2)::int8 END NULLS LAST,
               t.publisher_id, t.trade_id COLLATE "C" NULLS LAST, t.instrument_id, t.price, t.size, t.side`,
    [GEN, GEN_START, GEN_END, tol],
  );
  return rows.map((r) => {
    const tUs = BigInt(r.t_us!);
    const has = r.q_us !== null;
    return [
      microsToIso(tUs),
      GEN,
      r.trade_id ?? null,
      has ? microsToIso(BigInt(r.q_us!)) : null,
      r.bid_px_00 ?? null,
      r.ask_px_00 ?? null,
      r.bid_sz_00 ?? null,
      r.ask_sz_00 ?? null,
      r.sequence ?? null,
      has ? (tUs - BigInt(r.q_us!)).toString() : null,
      norm(r.mid ?? null),
      ...markoutsUs.map((_d, i) => norm(r[`mark${i}`] ?? null)),
    ];
  });
}

const normalized = (rows: Flat[], markouts: number) => rows.map((r) => [...r.slice(0, 10), ...r.slice(10, 11 + markouts).map(norm)]);

describe.each(ENGINE_KINDS)('asOfJoin = the LATERAL query, row for row, on %s', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'asofjoingen' });
    await generate(t.engine, 3000, 3000);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const cases: [string, AsOfJoinOptions, boolean, bigint | null, bigint[]][] = [
    ['backward', {}, false, null, []],
    [
      'backward, tolerance 10 s, markouts 5 s and 1 min',
      { tolerance: '10 seconds', markouts: ['5s', '1 minute'] },
      false,
      10_000_000n,
      [5_000_000n, 60_000_000n],
    ],
    ['forward', { direction: 'forward' }, true, null, []],
    ['forward, tolerance 3 s', { direction: 'forward', tolerance: '3s' }, true, 3_000_000n, []],
  ];

  async function check(label: string): Promise<void> {
    for (const [name, options, fwd, tol, marks] of cases) {
      const want = await lateral(t.engine, fwd, tol, marks);
      const got = normalized(await collect(t.engine, GEN, { ...options, batchSize: 97 }, GEN_START, GEN_END), marks.length);
      expect(got.length, `${label} ${name}`).toBeGreaterThan(2000);
      expect(got, `${label} ${name}`).toEqual(want);
    }
  }

  it('ties are common in the data (the test means something)', async () => {
    const { rows } = await t.engine.query<{ n: string }>(
      `SELECT count(*) AS n FROM (SELECT 1 FROM tbbo_data WHERE symbol = $1 GROUP BY instrument_id, publisher_id, "timestamp" HAVING count(*) > 1) x`,
      [GEN],
    );
    expect(Number(rows[0]!.n)).toBeGreaterThan(100);
  });

  it('uncompressed', async () => {
    await check('uncompressed');
  });

  it('compressed (where the tier has compression)', async () => {
    if (!(await t.engine.capabilities()).compression) return;
    for (const table of ['trades_data', 'tbbo_data'])
      for (const c of await listChunks(t.engine, table)) await compressChunk(t.engine, c.chunk);
    await check('compressed');
  });
});
