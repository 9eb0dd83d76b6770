/**
 * The web console of `tickvault serve`, in headless Debian chromium on both engines: the data
 * view lists each table and symbol with its row count, the candle chart of a symbol-day holds
 * exactly the bars `query bars` returns (its highs and lows equal), the loads view shows the
 * test's load with its counts and a running load's progress live, the quarantine view the rejected row with its reason, the health
 * view the state, and turns red when the database stops. The JSON endpoints behind it answer on their own, and refuse writes. A
 * screenshot of each view is saved under test-artifacts/console/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerEngine } from '../../src/engine/server.js';
import { startHealthServer, type HealthServer } from '../../src/health/http.js';
import { TradesLoader, type TradeRecord } from '../../src/load/loaders.js';
import { bars } from '../../src/query/queries.js';
import { migrate } from '../../src/schema/migrate.js';
import { launchChromium, type TestBrowser } from '../support/browser.js';
import { count, reset } from '../support/db.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { repoRoot } from '../support/fixtures.js';
import { startServerCluster, type ServerCluster } from '../support/server-cluster.js';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'console');
const DAY = '2024-03-04';

/** ESH4: one trade a minute for three hours of DAY, prices moving; NQH4 on two days; one bad side. */
function trades(): TradeRecord[] {
  const out: TradeRecord[] = [];
  for (let i = 0; i < 180; i++) {
    const t = new Date(Date.parse(`${DAY}T14:00:00Z`) + i * 60_000).toISOString();
    out.push({
      timestamp: t,
      instrument_id: 1,
      symbol: 'ESH4',
      price: `${5100 + ((i * 7) % 23)}.25`,
      size: 1 + (i % 5),
      side: i % 2 ? 'B' : 'S',
      trade_id: `e${i}`,
    });
  }
  for (const d of ['2024-03-04', '2024-03-06'])
    out.push({ timestamp: `${d}T15:00:00Z`, instrument_id: 2, symbol: 'NQH4', price: '18000.5', size: 2, side: 'N', trade_id: `n-${d}` });
  out.push({ timestamp: `${DAY}T16:00:00Z`, instrument_id: 1, symbol: 'ESH4', price: '5100', size: 1, side: 'X' as 'B', trade_id: 'bad' });
  return out;
}

describe.each(ENGINE_KINDS)('web console (%s)', (kind) => {
  let te: TestEngine;
  let server: HealthServer;
  let browser: TestBrowser;
  let loadId: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    te = await openTestEngine(kind, { name: 'console' });
    await reset(te.engine);
    const r = await new TradesLoader({ engine: te.engine }).bulkLoad(trades(), {
      source: { source: 'console-test.csv', contentHash: `console-${kind}` },
    });
    expect({ inserted: r.recordsInserted, rejected: r.recordsRejected }).toEqual({ inserted: 182, rejected: 1 });
    loadId = String(r.loadId);
    server = await startHealthServer(te.engine, { port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await te?.dispose();
  });

  /** Page errors and failed requests, for the message of a view that never gets ready. */
  const problems: string[] = [];
  const watched = new WeakSet<object>();
  async function open(view: string) {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    if (!watched.has(page)) {
      watched.add(page);
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()} ${r.url()}`));
    }
    await page.goto(`${server.url}/#${view}`);
    await page.waitForSelector(`body[data-view-ready="${view}"]`, { timeout: 20_000 }).catch((err: Error) => {
      throw new Error(`${err.message}\n${problems.join('\n')}`);
    });
    return page;
  }

  it('the data view lists each table and symbol with its row count and days', async () => {
    const page = await open('data');
    const rows = await page.$$eval('[data-table][data-symbol]', (els) =>
      els.map((e) => [e.getAttribute('data-table'), e.getAttribute('data-symbol'), Number(e.getAttribute('data-rows'))]),
    );
    expect(rows).toEqual([
      ['trades_data', 'ESH4', await count(te.engine, 'trades_data', "symbol = 'ESH4'")],
      ['trades_data', 'NQH4', 2],
    ]);
    expect(await page.$$eval('.strip', (els) => els.map((e) => Number(e.getAttribute('data-days'))))).toEqual([1, 2]);
    await page.screenshot({ path: path.join(ARTIFACTS, `data-${kind}.png`) });
  });

  it('the candle chart of a symbol-day holds the bars `query bars` returns', async () => {
    const page = await open('candles');
    await page.selectOption('#candles-form select[name="symbol"]', 'trades_data|ESH4');
    await page.selectOption('#candles-form select[name="granularity"]', '15 minutes');
    await page.fill('#candles-form input[name="start"]', `${DAY}T00:00:00Z`);
    await page.fill('#candles-form input[name="end"]', '2024-03-05T00:00:00Z');
    await page.click('#candles-form button[type="submit"]');
    const expected = await bars(te.engine, 'ESH4', `${DAY}T00:00:00Z`, '2024-03-05T00:00:00Z', '15 minutes', { source: 'trades' });
    expect(expected).toHaveLength(12);
    await page.waitForFunction(
      (n) => (globalThis as unknown as { tickvaultChart?: { candles: unknown[] } }).tickvaultChart?.candles.length === n,
      12,
    );
    const chart = await page.evaluate(
      () =>
        (globalThis as unknown as { tickvaultChart: { relation: string; candles: { time: number; high: number; low: number }[] } })
          .tickvaultChart,
    );
    expect(chart.candles.map((c) => [c.time * 1000, c.high, c.low])).toEqual(
      expected.map((b) => [Number(b.timeUs / 1000n), Number(b.high), Number(b.low)]),
    );
    expect(await page.textContent('#chart-source')).toContain(`from ${chart.relation}`);
    await page.screenshot({ path: path.join(ARTIFACTS, `candles-${kind}.png`) });
  });

  it('the loads view shows the load with its counts', async () => {
    const page = await open('loads');
    const row = page.locator(`[data-load="${loadId}"]`);
    expect(await row.getAttribute('data-status')).toBe('completed');
    expect(await row.getAttribute('data-source')).toBe('console-test.csv');
    expect((await row.locator('[data-col="inserted"]').textContent())?.replace(/\D/g, '')).toBe('182');
    expect((await row.locator('[data-col="rejected"]').textContent())?.replace(/\D/g, '')).toBe('1');
    await page.screenshot({ path: path.join(ARTIFACTS, `loads-${kind}.png`) });
  });

  it('the quarantine view shows the rejected row with its reason', async () => {
    const page = await open('quarantine');
    const reasons = await page.$$eval('[data-reason]', (els) => els.map((e) => e.getAttribute('data-reason')));
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/side/);
    expect(await page.textContent('#quarantine-body')).toContain('bad');
    await page.screenshot({ path: path.join(ARTIFACTS, `quarantine-${kind}.png`) });
  });

  it('the health view shows the state of the checks', async () => {
    const page = await open('health');
    expect(await page.getAttribute('#health-state', 'data-healthy')).toBe('true');
    await page.screenshot({ path: path.join(ARTIFACTS, `health-${kind}.png`) });
  });

  it('a load running during the test shows its progress live, then its final counts', async () => {
    // A source that stops after its first 200 records until the test lets it go on.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* held(): AsyncGenerator<TradeRecord> {
      for (let i = 0; i < 400; i++) {
        if (i === 200) await gate;
        const t = new Date(Date.parse('2024-03-05T10:00:00Z') + i * 1000).toISOString();
        yield { timestamp: t, instrument_id: 3, symbol: 'LIVE', price: '10.5', size: 1, side: 'B', trade_id: `l${i}` };
      }
    }
    const running = new TradesLoader({ engine: te.engine, batchSize: 100 }).bulkLoad(held(), {
      source: { source: 'live-feed', contentHash: `live-${kind}` },
      total: 400,
    });
    const page = await open('loads');
    const row = page.locator('[data-source="live-feed"]');
    try {
      await row.locator('[data-col="progress"]', { hasText: '200 of 400 records, 50%' }).waitFor({ timeout: 20_000 });
      expect(await row.getAttribute('data-status')).toBe('running');
      await page.screenshot({ path: path.join(ARTIFACTS, `loads-running-${kind}.png`) });
    } finally {
      release();
    }
    const done = await running;
    expect(done.recordsInserted).toBe(400);
    // The view refreshes itself every second.
    await page.waitForSelector('[data-source="live-feed"][data-status="completed"]', { timeout: 20_000 });
    expect((await row.locator('[data-col="inserted"]').textContent())?.replace(/\D/g, '')).toBe('400');
  });

  it('the JSON endpoints answer on their own; the console refuses writes', async () => {
    const cov = (await (await fetch(`${server.url}/api/coverage`)).json()) as { tables: { symbol: string; rows: number }[] };
    expect(cov.tables.map((t) => [t.symbol, t.rows])).toEqual([
      ['ESH4', 180],
      ['LIVE', 400],
      ['NQH4', 2],
    ]);
    const bad = await fetch(`${server.url}/api/candles?symbol=ESH4&start=nope&end=2024-03-05`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/nope|time/i);
    const post = await fetch(`${server.url}/api/loads`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    const q = (await (await fetch(`${server.url}/api/quarantine?table=trades_data`)).json()) as Record<string, unknown>;
    expect(JSON.stringify(q)).toContain('bad');
  });
});

describe('web console health when the database stops (private server cluster)', () => {
  let cluster: ServerCluster;
  let engine: ServerEngine;
  let server: HealthServer;
  let browser: TestBrowser;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    cluster = await startServerCluster({ tmpPrefix: 'tv-console-stop-' });
    engine = new ServerEngine({ url: cluster.url, pool: { poolTimeout: 2, retryWindow: 0 } });
    await migrate(engine);
    server = await startHealthServer(engine, { port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await engine?.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('turns red with the reason, and the badge with it', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/#health`);
    await page.waitForSelector('#health-state[data-healthy="true"]', { timeout: 20_000 });
    await cluster.stopServer();
    // The view refreshes itself every second.
    await page.waitForSelector('#health-state[data-healthy="false"]', { timeout: 30_000 });
    expect(await page.textContent('#health-reasons')).toMatch(/database|connect|unreachable/i);
    expect(await page.getAttribute('#health-badge', 'class')).toContain('bad');
    await page.screenshot({ path: path.join(ARTIFACTS, 'health-stopped-server.png') });
  });
});
