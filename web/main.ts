/**
 * The tickvault console: five views over the read-only JSON of `tickvault serve` (/api/*).
 * Values from the database go into the page as text nodes only, never as HTML.
 */
import { CandlestickSeries, createChart, HistogramSeries, type IChartApi, type UTCTimestamp } from 'lightweight-charts';

type Json = Record<string, unknown>;
interface Coverage {
  table: string;
  symbol: string;
  first: string;
  last: string;
  rows: number;
  days: string[];
}
interface Bar {
  time: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

declare global {
  interface Window {
    /** What the candle chart shows, for tests and for people reading the page's state. */
    tickvaultChart?: { relation: string; reason: string; candles: { time: number; open: number; high: number; low: number; close: number }[] };
  }
}

type Child = Node | string | number | null | undefined;
function el(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}
function table(head: string[], rows: HTMLElement[], attrs: Record<string, string> = {}): HTMLElement {
  return el('table', attrs, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows));
}
const num = (v: Child, attrs: Record<string, string> = {}) => el('td', { class: 'num', ...attrs }, v ?? '');
const td = (v: Child, attrs: Record<string, string> = {}) => el('td', attrs, v ?? '');
const $ = (id: string) => document.getElementById(id)!;

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${url}: ${res.status} ${text.trim()}`);
  }
}

function duration(s: number | null): string {
  if (s === null) return '';
  return s < 120 ? `${s.toFixed(1)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;
}

// ------------------------------------------------------------------------------------------ data
let coverageRows: Coverage[] = [];

function strip(c: Coverage): HTMLElement {
  const have = new Set(c.days);
  const s = el('div', { class: 'strip', 'data-days': String(c.days.length) });
  const first = Date.parse(`${c.days[0]}T00:00:00Z`);
  const last = Date.parse(`${c.days[c.days.length - 1]}T00:00:00Z`);
  for (let t = first; t <= last; t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    s.append(el('span', { class: have.has(day) ? 'has' : 'gap', title: `${day}${have.has(day) ? '' : ': no data'}` }));
  }
  return s;
}

async function showData(): Promise<void> {
  const { tables } = await getJson<{ tables: Coverage[] }>('/api/coverage');
  coverageRows = tables;
  $('view-data').replaceChildren(
    table(
      ['table', 'symbol', 'first', 'last', 'rows', 'days with data'],
      tables.map((c) =>
        el(
          'tr',
          { 'data-table': c.table, 'data-symbol': c.symbol, 'data-rows': String(c.rows) },
          td(c.table),
          td(c.symbol),
          td(c.first),
          td(c.last),
          num(c.rows.toLocaleString('en-US')),
          td(strip(c)),
        ),
      ),
      { id: 'coverage' },
    ),
  );
  fillSymbols();
}

// --------------------------------------------------------------------------------------- candles
let chart: IChartApi | undefined;

function fillSymbols(): void {
  const form = $('candles-form') as HTMLFormElement;
  const select = form.elements.namedItem('symbol') as HTMLSelectElement;
  const chartable = coverageRows.filter((c) => c.table === 'trades_data' || c.table === 'ohlcv_data');
  select.replaceChildren(...chartable.map((c) => el('option', { value: `${c.table}|${c.symbol}` }, `${c.symbol} (${c.table})`)));
  const start = form.elements.namedItem('start') as HTMLInputElement;
  if (!start.value && chartable[0]) setRange(chartable[0]);
  select.onchange = () => {
    const c = chartable.find((x) => `${x.table}|${x.symbol}` === select.value);
    if (c) setRange(c);
  };
}

function setRange(c: Coverage): void {
  const form = $('candles-form') as HTMLFormElement;
  const day = c.days[0]!;
  (form.elements.namedItem('start') as HTMLInputElement).value = `${day}T00:00:00Z`;
  (form.elements.namedItem('end') as HTMLInputElement).value = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString();
}

async function showCandles(): Promise<void> {
  const form = $('candles-form') as HTMLFormElement;
  const data = new FormData(form);
  const [tableName, symbol] = String(data.get('symbol') ?? '').split('|');
  if (!symbol) return;
  const q = new URLSearchParams({
    symbol,
    granularity: String(data.get('granularity')),
    start: String(data.get('start')),
    end: String(data.get('end')),
    source: tableName === 'ohlcv_data' ? 'ohlcv' : 'trades',
  });
  const res = await getJson<{ relation: string; reason: string; bars: Bar[]; error?: string }>(`/api/candles?${q}`);
  if (res.error) {
    $('chart-source').textContent = res.error;
    return;
  }
  const candles = res.bars.map((b) => ({
    time: (Date.parse(b.time) / 1000) as UTCTimestamp,
    open: Number(b.open),
    high: Number(b.high),
    low: Number(b.low),
    close: Number(b.close),
  }));
  chart?.remove();
  chart = createChart($('chart'), { autoSize: true, timeScale: { timeVisible: true, secondsVisible: false } });
  const series = chart.addSeries(CandlestickSeries);
  series.setData(candles);
  const volume = chart.addSeries(HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' } });
  volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  volume.setData(res.bars.map((b) => ({ time: (Date.parse(b.time) / 1000) as UTCTimestamp, value: Number(b.volume) })));
  chart.timeScale().fitContent();
  $('chart-source').textContent = `${symbol}: ${candles.length} candles from ${res.relation} (${res.reason})`;
  $('chart-source').setAttribute('data-relation', res.relation);
  // What the chart itself holds (its data API), not what was fetched.
  window.tickvaultChart = {
    relation: res.relation,
    reason: res.reason,
    candles: series.data().map((d) => {
      const c = d as { time: number; open: number; high: number; low: number; close: number };
      return { time: c.time, open: c.open, high: c.high, low: c.low, close: c.close };
    }),
  };
}

// ----------------------------------------------------------------------------------------- loads
interface Load {
  loadId: string;
  table: string;
  source: string;
  mode: string;
  status: string;
  startedAt: string;
  recordsIn: number;
  recordsInserted: number;
  recordsRejected: number;
  durationSeconds: number | null;
  rowsPerSecond: number | null;
  strategy: string | null;
  touchedChunks: number | null;
  error: string | null;
  progress: { records: number; total: number | null; percent: number | null; etaSeconds: number | null } | null;
}

async function showLoads(): Promise<void> {
  const { loads } = await getJson<{ loads: Load[] }>('/api/loads');
  $('view-loads').replaceChildren(
    table(
      ['load', 'table', 'source', 'status', 'started', 'records', 'inserted', 'rejected', 'rows/s', 'duration', 'strategy', 'chunks', 'progress'],
      loads.map((l) =>
        el(
          'tr',
          { 'data-load': l.loadId, 'data-status': l.status, 'data-source': l.source },
          td(l.loadId),
          td(l.table),
          td(l.source),
          td(l.status, { class: `state ${l.status === 'failed' ? 'bad' : l.status === 'completed' ? 'ok' : ''}` }),
          td(l.startedAt),
          num(l.recordsIn, { 'data-col': 'records' }),
          num(l.recordsInserted, { 'data-col': 'inserted' }),
          num(l.recordsRejected, { 'data-col': 'rejected' }),
          num(l.rowsPerSecond),
          num(duration(l.durationSeconds)),
          td(l.strategy),
          num(l.touchedChunks),
          td(
            l.progress
              ? `${l.progress.records.toLocaleString('en-US')}${l.progress.total ? ` of ${l.progress.total.toLocaleString('en-US')}` : ''} records` +
                  `${l.progress.percent === null ? '' : `, ${l.progress.percent}%`}${l.progress.etaSeconds === null ? '' : `, ETA ${duration(l.progress.etaSeconds)}`}`
              : (l.error ?? ''),
            { 'data-col': 'progress' },
          ),
        ),
      ),
      { id: 'loads' },
    ),
  );
}

// ------------------------------------------------------------------------------------ quarantine
async function showQuarantine(): Promise<void> {
  const data = new FormData($('quarantine-form') as HTMLFormElement);
  const q = new URLSearchParams();
  for (const k of ['table', 'reason', 'load']) if (data.get(k)) q.set(k, String(data.get(k)));
  const res = await getJson<{
    groups: { table: string; reason: string; loadId: string | null; source: string | null; rows: number }[];
    rows: { id: string; table: string; loadId: string | null; reason: string; source: string | null; recordIndex: number | null; record: unknown }[];
    error?: string;
  }>(`/api/quarantine?${q}`);
  if (res.error) {
    $('quarantine-body').textContent = res.error;
    return;
  }
  $('quarantine-body').replaceChildren(
    el('h3', {}, 'By reason and load'),
    table(
      ['table', 'reason', 'load', 'source', 'rows'],
      res.groups.map((g) => el('tr', {}, td(g.table), td(g.reason), td(g.loadId), td(g.source), num(g.rows))),
      { id: 'quarantine-groups' },
    ),
    el('h3', {}, 'Rows (newest first)'),
    table(
      ['id', 'table', 'load', 'reason', 'source', 'record #', 'stored record'],
      res.rows.map((r) =>
        el(
          'tr',
          { 'data-id': r.id, 'data-reason': r.reason },
          td(r.id),
          td(r.table),
          td(r.loadId),
          td(r.reason),
          td(r.source),
          num(r.recordIndex),
          td(el('pre', {}, JSON.stringify(r.record, null, 1))),
        ),
      ),
      { id: 'quarantine-rows' },
    ),
  );
}

// ---------------------------------------------------------------------------------------- health
async function showHealth(): Promise<void> {
  let h: Json;
  try {
    h = await getJson<Json>('/api/health');
  } catch (err) {
    h = { healthy: false, reasons: [(err as Error).message], warnings: [], tables: [], jobs: [], freshness: [] };
  }
  const healthy = h.healthy === true;
  const badge = $('health-badge');
  badge.textContent = healthy ? 'healthy' : 'unhealthy';
  badge.className = `badge ${healthy ? 'ok' : 'bad'}`;
  const reasons = (h.reasons as string[]) ?? [];
  const warnings = (h.warnings as string[]) ?? [];
  const fresh = (h.freshness as { table: string; newest: string | null; seconds: number | null; limitSeconds: number | null; stale: boolean }[]) ?? [];
  const tables = (h.tables as { table: string; reachable: boolean; chunks: number | null; compression: { ratio: number | null; compressedChunks: number } | null }[]) ?? [];
  const jobs = (h.jobs as { jobId: number; procedure: string; hypertable: string | null; lastRunStatus: string | null; lastRunStartedAt: string | null; totalRuns: number; totalFailures: number }[]) ?? [];
  const conn = (h.connectivity as { ok: boolean; latencyMs: number | null } | undefined) ?? { ok: false, latencyMs: null };
  $('view-health').replaceChildren(
    el('h2', { id: 'health-state', class: `state ${healthy ? 'ok' : 'bad'}`, 'data-healthy': String(healthy) }, healthy ? 'HEALTHY' : 'UNHEALTHY'),
    el('ul', { class: 'reasons', id: 'health-reasons' }, ...reasons.map((r) => el('li', {}, r))),
    el('ul', { class: 'warnings' }, ...warnings.map((w) => el('li', {}, w))),
    table(
      ['check', 'state'],
      [
        el('tr', {}, td('database'), td(conn.ok ? `ok, ${conn.latencyMs} ms` : 'unreachable', { class: `state ${conn.ok ? 'ok' : 'bad'}` })),
        el('tr', {}, td('schema'), td(h.schemaVersion === null ? 'unknown' : `version ${h.schemaVersion} of ${h.latestSchemaVersion}`)),
      ],
    ),
    el('h3', {}, 'Tables'),
    table(
      ['table', 'readable', 'newest', 'age', 'limit', 'chunks', 'compression'],
      tables.map((t) => {
        const f = fresh.find((x) => x.table === t.table);
        return el(
          'tr',
          { 'data-table': t.table },
          td(t.table),
          td(t.reachable ? 'yes' : 'NO', { class: `state ${t.reachable ? 'ok' : 'bad'}` }),
          td(f?.newest),
          td(duration(f?.seconds ?? null), { class: f?.stale ? 'state bad' : '' }),
          td(f?.limitSeconds === null || f?.limitSeconds === undefined ? '' : duration(f.limitSeconds)),
          num(t.chunks),
          td(t.compression?.ratio ? `${t.compression.ratio}x (${t.compression.compressedChunks} chunks)` : ''),
        );
      }),
    ),
    el('h3', {}, 'Jobs'),
    table(
      ['job', 'procedure', 'hypertable', 'last run', 'started', 'failed / runs'],
      jobs.map((j) =>
        el(
          'tr',
          {},
          num(j.jobId),
          td(j.procedure),
          td(j.hypertable),
          td(j.lastRunStatus ?? 'never', { class: j.lastRunStatus === 'Failed' ? 'state bad' : '' }),
          td(j.lastRunStartedAt),
          num(`${j.totalFailures} / ${j.totalRuns}`),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------- router
const views: Record<string, () => Promise<void>> = {
  data: showData,
  candles: async () => {
    if (coverageRows.length === 0) await showData();
    await showCandles();
  },
  loads: showLoads,
  quarantine: showQuarantine,
  health: showHealth,
};
let timer: ReturnType<typeof setInterval> | undefined;

async function route(): Promise<void> {
  const name = location.hash.slice(1) in views ? location.hash.slice(1) : 'data';
  for (const v of document.querySelectorAll('.view')) v.classList.toggle('active', v.id === `view-${name}`);
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.getAttribute('data-view') === name);
  if (timer) clearInterval(timer);
  const show = views[name]!;
  const run = () =>
    show()
      .then(() => document.body.setAttribute('data-view-ready', name))
      .catch((err: unknown) => $(`view-${name}`).prepend(el('p', { class: 'state bad' }, (err as Error).message)));
  await run();
  // Running loads and health change while one looks at them.
  if (name === 'loads' || name === 'health') timer = setInterval(run, 1000);
}

($('candles-form') as HTMLFormElement).onsubmit = (e) => {
  e.preventDefault();
  void showCandles();
};
($('quarantine-form') as HTMLFormElement).onsubmit = (e) => {
  e.preventDefault();
  void showQuarantine();
};
window.addEventListener('hashchange', () => void route());
void route();
void showHealth();
