/**
 * Load progress on stderr: a live bar on a TTY (records, rows/s), plain periodic lines otherwise
 * (CI logs), nothing at all in between updates for short loads.
 */
import cliProgress from 'cli-progress';

const PLAIN_INTERVAL_MS = 5_000;

export interface ProgressReporter {
  update: (records: number) => void;
  done: () => void;
}

export function progressReporter(label: string, fileBytes: number): ProgressReporter {
  const started = Date.now();
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({
      format: `${label} | {value} records | {rate} rows/s | {mb} MB file | {duration_formatted}`,
      stream: process.stderr,
      hideCursor: true,
    }, cliProgress.Presets.shades_classic);
    bar.start(0, 0, { rate: 0, mb: (fileBytes / 1e6).toFixed(1) });
    return {
      update: (n) => bar.update(n, { rate: Math.round(n / Math.max(0.001, (Date.now() - started) / 1000)) }),
      done: () => bar.stop(),
    };
  }
  let last = started;
  return {
    update: (n) => {
      const now = Date.now();
      if (now - last < PLAIN_INTERVAL_MS) return;
      last = now;
      process.stderr.write(`${label}: ${n} records, ${Math.round(n / ((now - started) / 1000))} rows/s\n`);
    },
    done: () => undefined,
  };
}
