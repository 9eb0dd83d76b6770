/**
 * The alert rules and the Grafana dashboard in ops/ are valid and speak of metrics that exist:
 * promtool checks and unit-tests the rules, and every metric name the rules or the dashboard
 * reference is a family declared by a real /metrics scrape of a database with a load in it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.js';
import { startHealthServer } from '../../src/health/http.js';
import { TradesLoader } from '../../src/load/loaders.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { type Exposition, parsePrometheus } from '../support/prometheus-parser.js';

const OPS = path.resolve(import.meta.dirname, '../../ops');
const RULES = path.join(OPS, 'prometheus/tickvault-rules.yml');
const RULE_TESTS = path.join(OPS, 'prometheus/tickvault-rules.test.yml');
const DASHBOARD = path.join(OPS, 'grafana/tickvault.json');
const PROMTOOL = '/usr/bin/promtool';

function promtool(args: string[], input?: string) {
  if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: run \`npm run setup:server\` (installs Debian's prometheus package)`);
  const r = spawnSync(PROMTOOL, args, { encoding: 'utf8', input, timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Metric names in PromQL text (no function or label names start with these prefixes). */
function metricNames(promql: string): Set<string> {
  return new Set(promql.match(/\b(?:tickvault|process|nodejs)_[a-z0-9_]+\b/g) ?? []);
}

function rulesExprs(): string[] {
  // The rules file's `expr:` values, one-line or block (`|`); enough YAML for our own file.
  const lines = readFileSync(RULES, 'utf8').split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    if (m[2] !== '|') out.push(m[2]!);
    else {
      const block: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || lines[i + 1]!.search(/\S/) > m[1]!.length)) block.push(lines[++i]!);
      out.push(block.join('\n'));
    }
  }
  return out;
}

function dashboardExprs(): string[] {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
    templating: { list: { query: string }[] };
  };
  return [...d.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...d.templating.list.map((v) => v.query)];
}

function declared(exp: Exposition, name: string): boolean {
  if (exp.types.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && ['histogram', 'summary'].includes(exp.types.get(base) ?? '');
}

describe('ops: alert rules and dashboard', () => {
  it('promtool check rules passes and the rules unit tests pass', () => {
    const check = promtool(['check', 'rules', RULES]);
    expect(check.out).toMatch(/SUCCESS: 8 rules found/);
    expect(check.code).toBe(0);
    const unit = promtool(['test', 'rules', RULE_TESTS]);
    expect(unit.out).toMatch(/SUCCESS/);
    expect(unit.code).toBe(0);
  });

  it('promtool check rules rejects a broken rule (the check can fail)', () => {
    const broken = promtool(['check', 'rules'], 'groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: tickvault_up ==\n');
    expect(broken.code).not.toBe(0);
  });

  it('the rules and the dashboard reference metrics', () => {
    expect(rulesExprs()).toHaveLength(8);
    const all = new Set([...rulesExprs(), ...dashboardExprs()].flatMap((e) => [...metricNames(e)]));
    expect(all.size).toBeGreaterThan(15);
  });

  describe.each(ENGINE_KINDS)('a real scrape (%s)', (kind) => {
    let t: TestEngine;
    let engine: Engine;
    let text: string;
    beforeAll(async () => {
      t = await openTestEngine(kind, { name: 'ops' });
      engine = t.engine;
      await new TradesLoader({ engine, batchSize: 50 }).bulkLoad(
        Array.from({ length: 100 }, (_, i) => ({
          timestamp: new Date(Date.UTC(2025, 5, 2, 14) + i * 1000),
          instrument_id: 3,
          symbol: 'CLN5',
          price: i === 7 ? '-1' : '70.25',
          size: 1,
          side: 'B' as const,
          trade_id: `ops${i}`,
        })),
        { source: { source: 'ops-fixture', contentHash: 'ops-fixture-v1' } },
      );
      const server = await startHealthServer(engine, { port: 0 });
      try {
        text = await (await fetch(`${server.url}/metrics`)).text();
      } finally {
        await server.close();
      }
    }, 120_000);
    afterAll(async () => {
      await t?.dispose();
    });

    it('every metric the rules and the dashboard use is declared by /metrics', () => {
      const exp = parsePrometheus(text);
      const used = new Set([...rulesExprs(), ...dashboardExprs()].flatMap((e) => [...metricNames(e)]));
      const missing = [...used].filter((n) => !declared(exp, n));
      expect(missing).toEqual([]);
      // And the ones the alerts fire on carry samples for the loaded table.
      const sample = (name: string) => exp.samples.find((s) => s.name === name && s.labels.table === 'trades_data');
      expect(sample('tickvault_rows_rejected_total')?.value).toBe(1);
      expect(sample('tickvault_rows_loaded_total')?.value).toBe(99);
      expect(sample('tickvault_data_freshness_seconds')?.value).toBeGreaterThan(0);
      expect(exp.samples.find((s) => s.name === 'tickvault_loads' && s.labels.status === 'completed')?.value).toBe(1);
    });

    it('promtool check metrics parses the exposition and finds nothing to lint in tickvault_* families', () => {
      const r = promtool(['check', 'metrics'], text);
      // prom-client names three Node.js gauges *_total, which promtool's lint flags; nothing else may be flagged.
      const findings = r.out.split('\n').filter((l) => l.trim() !== '');
      expect(findings.filter((l) => !/^nodejs_active_(handles|requests|resources)_total non-counter/.test(l))).toEqual([]);
      expect(r.code === 0 || findings.length > 0).toBe(true);
    });
  });
});
