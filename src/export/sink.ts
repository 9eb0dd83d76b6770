/**
 * Where export bytes go: a Node Writable with its backpressure honoured (the writer waits for
 * 'drain', so a slow disk or pipe never makes bytes pile up in memory), or a file that appears
 * under its name only when the export finished: it is written as `<out>.partial` and renamed, so
 * a failed or interrupted export never leaves a truncated file that looks complete.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { ExportError } from '../errors.js';

export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
  /** Flushes and closes; the output is complete when it resolves. */
  close(): Promise<void>;
  /** Drops the output after a failure (a file is removed; a stream is left to its owner). */
  abort(): Promise<void>;
  /** Bytes written so far. */
  readonly bytes: number;
}

class WritableSink implements ByteSink {
  bytes = 0;
  private failure: Error | null = null;
  constructor(
    protected readonly out: Writable,
    private readonly ends: boolean,
  ) {
    out.on('error', (err: Error) => {
      this.failure ??= err;
    });
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw new ExportError(`cannot write the export: ${this.failure.message}`, { cause: this.failure });
    if (chunk.byteLength === 0) return;
    this.bytes += chunk.byteLength;
    if (!this.out.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          this.out.off('drain', done);
          this.out.off('error', done);
          if (err) reject(new ExportError(`cannot write the export: ${err.message}`, { cause: err }));
          else resolve();
        };
        this.out.on('drain', done);
        this.out.on('error', done);
      });
    }
  }

  async close(): Promise<void> {
    if (this.failure) throw new ExportError(`cannot write the export: ${this.failure.message}`, { cause: this.failure });
    if (!this.ends) return;
    await new Promise<void>((resolve, reject) => {
      this.out.end((err?: Error | null) =>
        err ? reject(new ExportError(`cannot write the export: ${err.message}`, { cause: err })) : resolve(),
      );
    });
  }

  async abort(): Promise<void> {
    if (this.ends) this.out.destroy();
  }
}

/** Bytes into `out`; the stream is not ended (the caller owns it: stdout, a socket). */
export function streamSink(out: Writable): ByteSink {
  return new WritableSink(out, false);
}

class FileSink extends WritableSink {
  constructor(
    private readonly path: string,
    private readonly partial: string,
  ) {
    super(createWriteStream(partial), true);
  }

  override async close(): Promise<void> {
    await super.close();
    await rename(this.partial, this.path);
  }

  override async abort(): Promise<void> {
    await super.abort();
    await rm(this.partial, { force: true });
  }
}

/** A file at `path`, written under `<path>.partial` and renamed into place by close(). */
export function fileSink(path: string): ByteSink {
  return new FileSink(path, `${path}.partial`);
}
