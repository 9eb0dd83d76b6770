// Policy settings from flags and the config file: intervals, none, unknown tables and keys.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICIES, parsePolicyPairs, resolvePolicies } from '../../src/config/policies.js';
import { readPolicyConfig } from '../../src/config/settings.js';

describe('policy settings', () => {
  it('no default retention on any table; compression defaults stay', () => {
    expect(Object.values(DEFAULT_POLICIES.retainFor)).toEqual([null, null, null, null]);
    expect(resolvePolicies().compressAfter.trades_data).toBe('1 day');
    expect(resolvePolicies({ retainFor: { trades_data: 'none' }, compressAfter: { tbbo_data: null } })).toMatchObject({
      retainFor: { trades_data: null },
      compressAfter: { tbbo_data: null, trades_data: '1 day' },
    });
  });

  it('flags: table=interval|none, several per flag, unknown tables and bad intervals refused', () => {
    expect(parsePolicyPairs('--retention', ['trades_data=none', 'tbbo_data=3y,ohlcv_data=5 years'], true)).toEqual({
      trades_data: null,
      tbbo_data: '3y',
      ohlcv_data: '5 years',
    });
    expect(() => parsePolicyPairs('--retention', ['trade_data=1y'], true)).toThrow(/unknown table "trade_data"/);
    expect(() => parsePolicyPairs('--retention', ['trades_data=soon'], true)).toThrow(/--retention trades_data .*interval/);
    expect(() => parsePolicyPairs('--chunk-interval', ['trades_data=none'], false)).toThrow(/interval/);
    expect(() => resolvePolicies({ retainFor: { trades_data: "1 day'; DROP TABLE x; --" } })).toThrow(/interval/);
  });

  it('the config file "policies" section; a bad key or value names the file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tv-policy-config-'));
    try {
      const file = path.join(dir, 'tickvault.config.json');
      writeFileSync(
        file,
        JSON.stringify({
          pool: { poolSize: 3 },
          policies: { retention: { trades_data: 'none', tbbo_data: '3 years' }, compressAfter: { trades_data: '7d' } },
        }),
      );
      expect(readPolicyConfig({ cwd: dir, env: {} })).toEqual({
        retainFor: { trades_data: null, tbbo_data: '3 years' },
        compressAfter: { trades_data: '7d' },
      });
      writeFileSync(file, JSON.stringify({ policies: { retain: {} } }));
      expect(() => readPolicyConfig({ cwd: dir, env: {} })).toThrow(/unknown key "policies.retain"/);
      writeFileSync(file, JSON.stringify({ policies: { retention: { trades_data: 7 } } }));
      expect(() => readPolicyConfig({ cwd: dir, env: {} })).toThrow(/"policies.retention.trades_data" in .*tickvault.config.json/);
      expect(readPolicyConfig({ cwd: path.join(dir, 'nowhere'), env: {} })).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
