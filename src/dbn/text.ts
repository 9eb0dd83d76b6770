/** Fixed-width NUL-padded ASCII fields (DBN's c_char arrays). */

export function readCString(bytes: Uint8Array, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && bytes[end] !== 0) end++;
  // Symbols are short; fromCharCode over a small range beats TextDecoder's call overhead.
  let s = '';
  for (let i = off; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/**
 * Writes `s` NUL-padded into `len` bytes at `off`; returns the offset after the field. Throws when
 * the text does not fit with its terminating NUL or is not ASCII (the writer is for tests, and a
 * silently cut symbol would make a round-trip test lie).
 */
export function writeCString(out: Uint8Array, off: number, len: number, s: string): number {
  if (s.length >= len) throw new RangeError(`"${s}" does not fit a ${len}-byte C string`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0x7f) throw new RangeError(`"${s}" is not plain ASCII`);
    out[off + i] = c;
  }
  out.fill(0, off + s.length, off + len);
  return off + len;
}
