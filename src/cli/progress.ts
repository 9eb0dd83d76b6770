/**
 * Load progress on stderr: a live bar on a TTY (records, MB, rows/s, ETA once the file's record
 * count is known), plain periodic lines otherwise (CI logs), nothing between updates.
 */
import cliProgress from 'cli-progress';

const PLAIN_INTERVAL_MS = 5_000;

export interface ProgressReporter {
  update: (records: number, total?: number) => void;
  done: () => void;
}

export function progressReporter(label: string, fileBytes: number): ProgressReporter {
  const started = Date.now();
  const rate = (n: number) => Math.round(n / Math.max(0.001, (Date.now() - started) / 1000));
  // MB of the file behind the records done so far (records are fixed-size per schema).
  const mb = (n: number, total?: number) => (total ? (fileBytes * Math.min(1, n / total)) / 1e6 : 0).toFixed(1);
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({
      format: `${label} |{bar}| {percentage}% | {value}/{total} records | {mb}/${(fileBytes / 1e6).toFixed(1)} MB | {rate} rows/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
    }, cliProgress.Presets.shades_classic);
    bar.start(0, 0, { rate: 0, mb: '0.0' });
    let knownTotal = 0;
    return {
      update: (n, total) => {
        if (total && total !== knownTotal) { knownTotal = total; bar.setTotal(total); }
        bar.update(n, { rate: rate(n), mb: mb(n, total) });
      },
      done: () => bar.stop(),
    };
  }
  let last = started;
  return {
    update: (n, total) => {
      const now = Date.now();
      if (now - last < PLAIN_INTERVAL_MS) return;
      last = now;
      const eta = total && n > 0 ? ` (${Math.round((100 * n) / total)}%, ETA ${Math.round(((total - n) * (now - started)) / n / 1000)} s)` : '';
      process.stderr.write(`${label}: ${n} records, ${rate(n)} rows/s${eta}\n`);
    },
    done: () => undefined,
  };
}
