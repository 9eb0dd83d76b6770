/**
 * The growable byte buffer under the COPY writer: ONE Buffer, grown by doubling and reused across
 * chunks, plus at most one range of bytes appended by reference. takeChunk() hands out a copy of
 * the pending bytes once they reach `chunkSize`, so the caller can pass the chunk to a socket that
 * keeps a reference to it while the buffer goes on reusing its own memory.
 *
 * It knows nothing of COPY: the field encoders (field-encoders.ts) write into `buf` at `pos`, the
 * row encoder (row-encoder.ts) adds the stream framing.
 */

/**
 * Default size at which takeChunk() releases a chunk: 256 KiB.
 *
 * Why: every chunk becomes at least one CopyData message and one socket write (or one Blob
 * part), so per-write costs (stream machinery, syscalls, message framing) must be amortized
 * over thousands of rows. With pg + pg-copy-streams, binary COPY reached 1.3–1.8 M rows/s
 * with 64 KiB writes while one write per row was ~20× slower (DESIGN.md §6); 64 KiB–1 MiB is
 * the sweet spot. Bigger chunks only add memory and latency (the server sees nothing of a
 * chunk until it is complete) and make backpressure coarser. 256 KiB sits inside that range:
 * ~3,300 trade rows (78.5 bytes each) per chunk, a few chunks in flight per COPY.
 */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;

/**
 * Spare capacity allocated beyond `chunkSize`, so the row that crosses the threshold almost
 * never forces the buffer to grow. Rows larger than this simply grow the buffer (doubling).
 */
export const CHUNK_HEADROOM = 64 * 1024;

export interface ChunkBufferOptions {
  /** takeChunk() returns a chunk once this many bytes are pending. Default DEFAULT_CHUNK_SIZE. */
  chunkSize?: number;
}

export class ChunkBuffer {
  /** Threshold (bytes) at which takeChunk() releases a chunk. */
  readonly chunkSize: number;
  protected buf: Buffer;
  protected pos = 0;
  /**
   * Bytes appended by reference (appendRange): src[refStart, refEnd) logically follow
   * buf[0, pos). Kept as a range so consecutive appends cost a comparison each, and copied
   * (settled) into buf only when something else is written; a chunk that is nothing but such
   * a range is handed out without a copy.
   */
  private refSrc: Uint8Array | null = null;
  private refStart = 0;
  private refEnd = 0;
  /**
   * Offset a rollback may return to (rollBack), or -1 when none: handing bytes out drops it,
   * since they can no longer be taken back.
   */
  protected mark = -1;
  /** Set once the stream's last bytes are written; the owner refuses further writes. */
  protected sealed = false;
  /** Bytes handed out by takeChunk()/flush() since construction or clear(). */
  bytesOut = 0;

  constructor(options: ChunkBufferOptions = {}) {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!(chunkSize >= 1)) throw new RangeError(`chunkSize must be >= 1, got ${chunkSize}`);
    this.chunkSize = chunkSize;
    const initial = (Number.isFinite(chunkSize) ? Math.min(chunkSize, 64 * 1024 * 1024) : DEFAULT_CHUNK_SIZE) + CHUNK_HEADROOM;
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Bytes written and not yet handed out. */
  get pendingBytes(): number {
    return this.pos + (this.refEnd - this.refStart);
  }

  /** Current capacity of the internal buffer (for tests and memory accounting). */
  get capacity(): number {
    return this.buf.length;
  }

  /** Drops every pending byte and the counters, keeping the allocated memory. */
  protected clear(): void {
    this.pos = 0;
    this.refSrc = null;
    this.refStart = this.refEnd = 0;
    this.mark = -1;
    this.sealed = false;
    this.bytesOut = 0;
  }

  /** Makes room for `n` more bytes at `pos` in buf. */
  protected ensure(n: number): void {
    if (this.refSrc !== null) this.settle();
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  /**
   * Appends bytes src[start, end) by reference; the caller must never modify them afterwards
   * (chunks may be views of them). A range that continues the previous one in the same `src`
   * just extends it.
   */
  protected appendRange(src: Uint8Array, start: number, end: number): void {
    if (src === this.refSrc && start === this.refEnd) {
      this.refEnd = end;
    } else {
      if (this.refSrc !== null) this.settle();
      this.refSrc = src;
      this.refStart = start;
      this.refEnd = end;
    }
  }

  /** Copies the pending by-reference range into buf, so buf alone holds every pending byte. */
  private settle(): void {
    const src = this.refSrc!;
    const n = this.refEnd - this.refStart;
    this.refSrc = null;
    if (this.pos + n > this.buf.length) this.grow(n);
    this.buf.set(src.subarray(this.refStart, this.refEnd), this.pos);
    this.pos += n;
    this.refStart = this.refEnd = 0;
  }

  private grow(n: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Big-endian int32 at p (room ensured by the caller). */
  protected put32(p: number, v: number): void {
    const b = this.buf;
    b[p] = v >> 24;
    b[p + 1] = v >> 16;
    b[p + 2] = v >> 8;
    b[p + 3] = v;
  }

  /** The pending bytes as a new Buffer once at least `chunkSize` are pending, else null. */
  takeChunk(): Buffer | null {
    return this.pos + (this.refEnd - this.refStart) >= this.chunkSize ? this.flush() : null;
  }

  /** The pending bytes as a new Buffer regardless of the threshold (null if none). */
  flush(): Buffer | null {
    const src = this.refSrc;
    if (src !== null) {
      if (this.pos === 0) {
        // Only by-reference bytes are pending: hand out a view of them, no copy (never modified).
        const out = Buffer.from(src.buffer, src.byteOffset + this.refStart, this.refEnd - this.refStart);
        this.refSrc = null;
        this.refStart = this.refEnd = 0;
        this.mark = -1;
        this.bytesOut += out.length;
        return out;
      }
      this.settle();
    }
    const n = this.pos;
    if (n === 0) return null;
    const out = Buffer.allocUnsafe(n);
    this.buf.copy(out, 0, 0, n);
    this.pos = 0;
    this.mark = -1;
    this.bytesOut += n;
    return out;
  }
}
