// Issue 15.4: using a loader (or maintain, or a load plan) on a database that was never initialised
// dumped a driver error ("relation trades_data does not exist", on PGlite with ~15 KB of its
// minified source). Now every such operation says in one line what is wrong and what to run.
import { afterEach, describe, expect, it } from 'vitest';
import { TradesLoader } from '../../src/load/loaders.js';
import { maintain } from '../../src/maintain/maintain.js';
import { SchemaError } from '../../src/schema/schema-state.js';
import { planLoad } from '../../src/timescale/plan.js';
import { aggregatedVolume, asOf, bars, recentOhlcv, spreadAnalysis } from '../../src/query/index.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';

const TRADE = { timestamp: '2024-01-02T00:00:00Z', instrument_id: 1, symbol: 'X', price: '1.5', size: 1, side: 'B' as const };

describe.each(ENGINE_KINDS)('a database without the tickvault schema (%s)', (kind) => {
  let t: TestEngine | undefined;
  afterEach(async () => {
    await t?.dispose();
    t = undefined;
  });

  it('loaders, maintain, planLoad and the queries throw SCHEMA_MISSING naming `tickvault init` / migrate(engine)', async () => {
    t = await openTestEngine(kind, { migrate: false, name: 'noschema' });
    const loader = new TradesLoader({ engine: t.engine });
    const calls: (() => Promise<unknown>)[] = [
      () => loader.storeBatch([TRADE]),
      () => loader.bulkLoad([TRADE], { source: { source: 'x', contentHash: 'h1' } }),
      () => maintain(t!.engine),
      () => planLoad(t!.engine, 'trades_data', '2024-01-01', '2024-01-03'),
      () => bars(t!.engine, 'X', '2024-01-01', '2024-01-02', '1 hour', { source: 'trades' }),
      () => recentOhlcv(t!.engine, 'X', '2024-01-01', 5),
      () => aggregatedVolume(t!.engine, 'X', '2024-01-01', '2024-01-02', '1 hour'),
      () => spreadAnalysis(t!.engine, 'X', '2024-01-01', '2024-01-02'),
      () => asOf(t!.engine, 'X', '2024-01-01'),
    ];
    for (const call of calls) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SchemaError);
      expect(err).toMatchObject({ code: 'SCHEMA_MISSING', version: 0 });
      const message = (err as Error).message;
      expect(message).toMatch(/no tickvault schema.*tickvault init.*migrate\(engine\)/);
      expect(message).not.toContain('\n');
      expect(message.length).toBeLessThan(200);
    }
    // Nothing was created by asking.
    const { rows } = await t.engine.query<{ n: string }>(`SELECT count(*) AS n FROM pg_class WHERE relname LIKE 'tickvault%'`);
    expect(Number(rows[0]!.n)).toBe(0);
  });
});
