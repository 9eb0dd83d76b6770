// `tickvault load` expands its own globs (issue 15.8): `**`, braces, classes, directories; a
// pattern that matches nothing is a usage error naming the pattern.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expandFiles } from '../../src/cli/commands/load.js';
import { cli, cliCwd } from '../support/cli.js';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(cliCwd(), 'globs-'));
  for (const f of [
    '2024/01/a.trades.dbn.zst',
    '2024/01/b.trades.dbn',
    '2024/02/c.ohlcv-1m.dbn.zst',
    '2024/02/notes.txt',
    '2024/02/d.trades.csv.gz',
    '2024/03/e.parquet',
    'top.tbbo.dbn',
  ]) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), '');
  }
});

describe('expandFiles', () => {
  it('** and braces and classes, sorted; plain paths as given', () => {
    const rel = (fs_: string[]) => fs_.map((f) => path.relative(root, f));
    expect(rel(expandFiles([`${root}/**/*.dbn.zst`]))).toEqual(['2024/01/a.trades.dbn.zst', '2024/02/c.ohlcv-1m.dbn.zst']);
    expect(rel(expandFiles([`${root}/2024/0[1]/*.{dbn,dbn.zst}`]))).toEqual(['2024/01/a.trades.dbn.zst', '2024/01/b.trades.dbn']);
    expect(rel(expandFiles([`${root}/*.tbbo.dbn`, `${root}/missing.dbn`]))).toEqual(['top.tbbo.dbn', 'missing.dbn']);
  });

  it('a directory is the DBN, CSV and Parquet files under it (not other text files)', () => {
    expect(expandFiles([path.join(root, '2024')]).map((f) => path.relative(root, f))).toEqual([
      '2024/01/a.trades.dbn.zst',
      '2024/01/b.trades.dbn',
      '2024/02/c.ohlcv-1m.dbn.zst',
      '2024/02/d.trades.csv.gz',
      '2024/03/e.parquet',
    ]);
  });

  it('a pattern or directory matching nothing names itself', () => {
    expect(() => expandFiles([`${root}/**/*.mbo.dbn`])).toThrow(`no files matched ${root}/**/*.mbo.dbn`);
    fs.mkdirSync(path.join(root, 'empty'), { recursive: true });
    expect(() => expandFiles([path.join(root, 'empty')])).toThrow(
      /no DBN \(\.dbn, \.dbn\.zst\), CSV \(.*\) or Parquet \(.*\) files in directory .*empty/,
    );
  });

  it('the CLI: exit 2 and one line naming the pattern', async () => {
    const r = await cli(['--database-url', 'memory://', 'load', `${root}/nothing-*.dbn`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`tickvault: error [CONFIG]: no files matched ${root}/nothing-*.dbn`);
  });
});
