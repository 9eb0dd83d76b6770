// Issue 15.11: the embedded engine's default data directory is relative to the working directory,
// so a command run from another directory silently opened another, empty database. Now `status`
// names the absolute directory, and on a terminal every command says which database it used.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, cleanEnv, cli, cliCwd } from '../support/cli.js';

const run = promisify(execFile);

describe('which embedded database a command used', () => {
  it('status names the absolute data directory of the working directory it ran in', async () => {
    const a = fs.realpathSync(fs.mkdtempSync(path.join(cliCwd(), 'a-')));
    const r = await cli(['status'], { cwd: a });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`engine:       embedded (${path.join(a, '.tickvault', 'data')})`);
    // Not on a terminal: no extra line on stderr (scripts and pipes get only what they asked for).
    expect(r.stderr).toBe('');
  });

  it('on a terminal, a command first says which database it opened', async () => {
    const b = fs.realpathSync(fs.mkdtempSync(path.join(cliCwd(), 'b-')));
    // util-linux `script` runs the command under a pseudo-terminal.
    const { stdout } = await run('script', ['-qfec', `${process.execPath} ${CLI} status`, '/dev/null'], { cwd: b, env: cleanEnv() });
    expect(stdout).toContain(`tickvault: embedded database ${path.join(b, '.tickvault', 'data')}`);
  });
});
