/**
 * Child process of the kill -9 test (test/load/resume.test.ts): loads a deterministic stream of
 * synthetic trades into a server database in small committed batches, printing progress, until
 * the test kills it with SIGKILL. Runs compiled (the test compiles it into a private directory;
 * after `npm run build` also `node dist/test/support/kill-child.js <databaseUrl> <rows>
 * <batchSize> <source> <contentHash>`).
 */
import { TradesLoader } from '../../src/load/loaders.js';
import { syntheticTradeChunks } from '../../bench/synthetic-trades.js';

const [url, rows, batchSize, source, contentHash] = process.argv.slice(2);
if (!url || !rows || !batchSize || !source || !contentHash) {
  process.stderr.write('usage: kill-child.js <databaseUrl> <rows> <batchSize> <source> <contentHash>\n');
  process.exit(2);
}
const loader = new TradesLoader({ databaseUrl: url, batchSize: Number(batchSize), analyzeTables: false });
const result = await loader.bulkLoad(syntheticTradeChunks({ rows: Number(rows) }, 1000), {
  source: { source, contentHash },
  onProgress: (done) => {
    process.stdout.write(`progress ${done}\n`);
  },
});
process.stdout.write(`done ${JSON.stringify(result)}\n`);
await loader.close();
