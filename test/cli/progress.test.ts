// The load progress bar fits the terminal (issue 15.7): at 80, 100 or 120 columns the ETA was
// cut off and the line wrapped. Rendered with the widest value of every field.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { barLayout } from '../../src/cli/progress.js';
import { fixture } from '../support/fixtures.js';
import { CLI, cleanEnv, cliCwd } from '../support/cli.js';

const run = promisify(execFile);

function render(format: string, barsize: number): string {
  return format
    .replace('{bar}', '█'.repeat(barsize))
    .replace('{percentage}', '100')
    .replace('{value}', '10000000')
    .replace('{total}', '10000000')
    .replace('{mb}', '457.8')
    .replace('{rate}', '123456789')
    .replace('{eta_formatted}', '59m59s');
}

describe('progress bar layout', () => {
  it.each([60, 80, 100, 120, 160, 240])('fits %i columns with one to spare, ETA kept from 80 columns', (columns) => {
    const { format, barsize } = barLayout('GLBX.MDP3-trades-2024-01-02.dbn.zst', '457.8', 10_000_000, columns);
    const line = render(format, barsize);
    expect(line.length).toBeLessThanOrEqual(columns - 1);
    expect(barsize).toBeGreaterThanOrEqual(10);
    if (columns >= 80) expect(line).toMatch(/ETA 59m59s$/);
    if (columns >= 160) expect(line).toContain('10000000/10000000 records');
  });

  it('a long file name is shortened, not the fields', () => {
    const { format } = barLayout(`${'x'.repeat(80)}.dbn.zst`, '1.0', 100, 100);
    expect(format.split(' |')[0]).toHaveLength(32);
    expect(format).toContain('ETA');
  });
});

describe('tickvault load on a 100-column terminal', () => {
  it('says what the pre-pass is doing, then draws a bar that fits', async () => {
    const file = fixture('test_data.trades.v3.dbn.zst');
    const { stdout } = await run(
      'script',
      ['-qfec', `stty cols 100; ${process.execPath} ${CLI} --database-url memory:// load ${file}`, '/dev/null'],
      { cwd: cliCwd(), env: cleanEnv(), timeout: 120_000 },
    );
    expect(stdout).toContain('test_data.trades.v3.dbn.zst: checking the file (content hash and structure)…');
    // cli-progress redraws each frame after ESC [1G (cursor to column 1).
    const ESC = '\u001b';
    const frames = stdout
      .split(new RegExp(`\\r|\\n|${ESC}\\[\\d*G`))
      .map((l) => l.replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g'), ''))
      .filter((l) => l.includes('|'));
    for (const f of frames.filter((l) => l.includes('%'))) expect(f.length, f).toBeLessThanOrEqual(99);
    expect(stdout).toMatch(/inserted/);
  }, 180_000);
});
