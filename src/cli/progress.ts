/**
 * Load progress on stderr: a live bar on a TTY (records, MB, rows/s, ETA once the file's record
 * count is known), plain periodic lines otherwise (CI logs), nothing between updates. Until the
 * first records are loaded (the file's hash and structure pre-pass) a TTY shows what is happening
 * rather than a bar at 0/0. The bar fits the terminal: it drops the least useful fields first.
 */
import cliProgress from 'cli-progress';

const PLAIN_INTERVAL_MS = 5_000;

export interface ProgressReporter {
  update: (records: number, total?: number) => void;
  done: () => void;
}

/**
 * The bar's format for a terminal `columns` wide: the fields in order of use (percentage, ETA,
 * rate, records, MB) as many as fit beside a bar of at least 10 cells, each sized for its widest
 * value; one column is left free (writing the last one makes some terminals wrap).
 */
export function barLayout(
  label: string,
  fileMb: string,
  total: number,
  columns: number,
): { format: string; barsize: number; width: number } {
  const name = label.length > 32 ? `${label.slice(0, 31)}…` : label;
  const digits = String(Math.max(total, 1)).length;
  // In display order; `rank` is the order of use (0 is dropped last), `width` the widest value.
  const fields: readonly { text: string; width: number; rank: number }[] = [
    { text: '{percentage}%', width: 4, rank: 0 },
    { text: '{value}/{total} records', width: 2 * digits + 9, rank: 3 },
    { text: `{mb}/${fileMb} MB`, width: 2 * fileMb.length + 4, rank: 4 },
    { text: '{rate} rows/s', width: 9 + 7, rank: 2 },
    { text: 'ETA {eta_formatted}', width: 10, rank: 1 },
  ];
  const room = Math.max(24, columns - 1);
  const widthOf = (fs: readonly { width: number }[]) => name.length + 2 + 2 + fs.reduce((a, f) => a + 3 + f.width, 0) - 1;
  const upTo = (n: number) => fields.filter((f) => f.rank < n);
  let n = fields.length;
  while (n > 1 && room - widthOf(upTo(n)) < 10) n--;
  const chosen = upTo(n);
  const barsize = Math.max(10, Math.min(40, room - widthOf(chosen)));
  return { format: `${name} |{bar}| ${chosen.map((f) => f.text).join(' | ')}`, barsize, width: widthOf(chosen) + barsize };
}

export function progressReporter(label: string, fileBytes: number): ProgressReporter {
  const started = Date.now();
  const rate = (n: number) => Math.round(n / Math.max(0.001, (Date.now() - started) / 1000));
  // MB of the file behind the records done so far (records are fixed-size per schema).
  const mb = (n: number, total?: number) => (total ? (fileBytes * Math.min(1, n / total)) / 1e6 : 0).toFixed(1);
  if (process.stderr.isTTY) {
    const stream = process.stderr;
    stream.write(`${label}: checking the file (content hash and structure)…`);
    let bar: cliProgress.SingleBar | undefined;
    let knownTotal = 0;
    const clearLine = () => {
      stream.write('\r\u001b[2K');
    };
    return {
      update: (n, total) => {
        if (!bar) {
          clearLine();
          const { format, barsize } = barLayout(label, (fileBytes / 1e6).toFixed(1), total ?? 0, stream.columns ?? 80);
          bar = new cliProgress.SingleBar({ format, barsize, stream, hideCursor: true }, cliProgress.Presets.shades_classic);
          bar.start(total ?? 0, 0, { rate: 0, mb: '0.0' });
          knownTotal = total ?? 0;
        }
        if (total && total !== knownTotal) {
          knownTotal = total;
          bar.setTotal(total);
        }
        bar.update(n, { rate: rate(n), mb: mb(n, total) });
      },
      done: () => {
        if (bar) bar.stop();
        else clearLine();
      },
    };
  }
  let last = started;
  return {
    update: (n, total) => {
      const now = Date.now();
      if (now - last < PLAIN_INTERVAL_MS) return;
      last = now;
      const eta =
        total && n > 0 ? ` (${Math.round((100 * n) / total)}%, ETA ${Math.round(((total - n) * (now - started)) / n / 1000)} s)` : '';
      process.stderr.write(`${label}: ${n} records, ${rate(n)} rows/s${eta}\n`);
    },
    done: () => undefined,
  };
}
