// AssemblyScript (compiled to WebAssembly by `npm run build`): the DBN fast path's tuple kernels.
//
// Each kernel turns DBN records into PostgreSQL binary COPY tuples exactly as encodeTupleBlock
// with the table's FastRowCodec does (src/ingest/fast-codecs.ts, the reference these kernels are
// tested against byte for byte): same decline rules, same bytes, same `ends` and `timeUs`. Why a
// kernel at all: V8 spent ~80 ns a row on the JS codec (DataView calls, double arithmetic,
// mispredicted branches); native 64-bit integers and branch-free digit handling take ~15 ns.
//
// All pointers are byte offsets into this module's memory, laid out by the host
// (src/ingest/wasm-tuples.ts). No allocator (--runtime stub). Several stores write a few bytes past
// the end of their field; the next field overwrites them, and the host leaves slack after the
// output region for the last one.

const INT4_MAX: u32 = 2147483647;
/** µs between 1970-01-01 and 2000-01-01 (PostgreSQL's timestamp epoch). */
const PG_EPOCH_US: i64 = 946684800000000;
/** ts_event limit: floor(ns / 1000) < 8e15 µs (TUPLE_TS_LIMIT_US) ⟺ ns < 8e18. */
const NS_LIMIT: u64 = 8000000000000000000;
/** Prices the fast path takes: 5 ≤ nanos < 2^53 (price8 in fast-codecs.ts). */
const PRICE_MIN: i64 = 5;
const PRICE_LIMIT: i64 = 9007199254740992;

// Record offsets (src/dbn/layouts.ts: header, TRADE, MBP1).
const O_PUBLISHER = 2;
const O_ID = 4;
const O_TS_EVENT = 8;
const O_PRICE = 16;
const O_SIZE = 24;
const O_SIDE = 29;
const O_SEQUENCE = 44;
const O_BID_PX = 48;
const O_ASK_PX = 56;
const O_BID_SZ = 64;
const O_ASK_SZ = 68;

/** "0000".."9999" as 4 ASCII bytes each, set by init(). */
let digits: usize = 0;
let outLen: i32 = 0;
let minUs: u64 = 0;
let maxUs: u64 = 0;

/** Bytes written by the last kernel call. */
export function getOutLen(): i32 { return outLen; }
/** Smallest and largest timestamp (µs) among the last call's tuples (undefined when it made none). */
export function getMinUs(): f64 { return <f64>minUs; }
export function getMaxUs(): f64 { return <f64>maxUs; }

/** Fills the digit table at `ptr` (40,000 bytes). Call once before any kernel. */
export function init(ptr: usize): void {
  digits = ptr;
  for (let i: u32 = 0; i < 10000; i++) {
    const w: u32 = ((48 + i / 1000) << 24) | ((48 + (i / 100) % 10) << 16) | ((48 + (i / 10) % 10) << 8) | (48 + i % 10);
    store<u32>(ptr + (<usize>i << 2), bswap<u32>(w));
  }
}

/** A record the fast path declines: any of the flags set (combined without branches). */
// @ts-ignore: decorator
@inline function badPrice(nanos: i64): i32 {
  return <i32>(<u64>(nanos - PRICE_MIN) >= <u64>(PRICE_LIMIT - PRICE_MIN));
}

/** Field count (< 256), then TIMESTAMPTZ (length 8, µs since 2000 big-endian). 14 bytes. */
// @ts-ignore: decorator
@inline function putHeadAndTimestamp(p: usize, fields: u64, us: u64): usize {
  store<u64>(p, 0x0000080000000000 | (fields << 8));
  store<u64>(p, bswap<u64>(<u64>(<i64>us - PG_EPOCH_US)), 6);
  return p + 14;
}

/** INTEGER. 8 bytes. */
// @ts-ignore: decorator
@inline function putInt4(p: usize, v: u32): usize {
  store<u64>(p, (<u64>bswap<u32>(v) << 32) | 0x04000000);
  return p + 8;
}

/** BIGINT from a u32. 12 bytes. */
// @ts-ignore: decorator
@inline function putInt8U32(p: usize, v: u32): usize {
  store<u64>(p, 0x08000000);
  store<u32>(p, bswap<u32>(v), 8);
  return p + 12;
}

/**
 * A pre-encoded symbol field (length word included) from the host's table: entry s holds its
 * address and length; fields are padded to 8 bytes plus 8 spare, so two word copies cover the
 * usual short symbol whatever its length (a length-dependent loop mispredicted).
 */
// @ts-ignore: decorator
@inline function putSymbol(p: usize, symTab: usize, s: i32): usize {
  const e = symTab + (<usize>s << 3);
  const f = <usize>load<i32>(e);
  const len = <usize>load<i32>(e, 4);
  store<u64>(p, load<u64>(f));
  store<u64>(p, load<u64>(f, 8), 8);
  for (let j: usize = 16; j < len; j += 8) store<u64>(p + j, load<u64>(f + j));
  return p + len;
}

/**
 * NUMERIC with dscale 8 of x × 1e-8, 0 < x < 2^50 (putNumeric8 in tuple-fields.ts). The four
 * base-10000 groups (weights 1..-2) go into one u64; leading and trailing zero groups are found
 * with clz/ctz and the digits stored as one word (trailing zeros are overwritten next).
 */
// @ts-ignore: decorator
@inline function putNumeric8(p: usize, x: u64): usize {
  const units = x / 100000000;
  const frac = <u32>(x - units * 100000000);
  const u = <u32>units;
  const g1 = u / 10000;
  const g0 = u - g1 * 10000;
  const f1 = frac / 10000;
  const f2 = frac - f1 * 10000;
  const w = (<u64>g1 << 48) | (<u64>g0 << 32) | (<u64>f1 << 16) | <u64>f2;
  const lead = <u32>(clz<u64>(w) >> 4);
  const trail = <u32>(ctz<u64>(w) >> 4);
  const n = 4 - lead - trail;
  store<u32>(p, bswap<u32>(8 + 2 * n));
  store<u32>(p, bswap<u32>((n << 16) | ((1 - lead) & 0xffff)), 4);
  store<u32>(p, 0x08000000, 8); // sign 0, dscale 8
  store<u64>(p, bswap<u64>(w << (<u64>lead << 4)), 12);
  return p + 12 + 2 * <usize>n;
}

// @ts-ignore: decorator
@inline function digitCount(v: u32): usize {
  return v < 100000
    ? (v < 100 ? (v < 10 ? 1 : 2) : v < 1000 ? 3 : v < 10000 ? 4 : 5)
    : (v < 10000000 ? (v < 1000000 ? 6 : 7) : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10);
}

/** Digits of v ending at `end`, four at a time; the leading group may write 3 '0's before them. */
// @ts-ignore: decorator
@inline function putDigitsBefore(end: usize, v: u32): void {
  const tab = digits;
  while (v >= 10000) {
    const q = v / 10000;
    end -= 4;
    store<u32>(end, load<u32>(tab + (<usize>(v - q * 10000) << 2)));
    v = q;
  }
  store<u32>(end - 4, load<u32>(tab + (<usize>v << 2)));
}

/** TEXT "a:b" (trade id "publisher:sequence"), right to left so each spill is overwritten. */
// @ts-ignore: decorator
@inline function putIdPair(p: usize, a: u32, b: u32): usize {
  const start = p + 4;
  const colon = start + digitCount(a);
  const end = colon + 1 + digitCount(b);
  putDigitsBefore(end, b);
  store<u8>(colon, 58);
  putDigitsBefore(colon, a);
  store<u32>(p, bswap<u32>(<u32>(end - start)));
  return end;
}

/**
 * What every fast table's tuple starts with: the field count, `timestamp` (ts_event truncated to
 * µs, also stored as the record's times entry), instrument_id and symbol.
 */
// @ts-ignore: decorator
@inline function putRowStart(p: usize, fields: u64, times: usize, i: i32, ns: u64, id: u32, symTab: usize, syms: usize): usize {
  const us = ns / 1000;
  store<f64>(times + (<usize>i << 3), <f64>us);
  minUs = min(minUs, us);
  maxUs = max(maxUs, us);
  return putSymbol(putInt4(putHeadAndTimestamp(p, fields, us), id), symTab, load<i32>(syms + (<usize>i << 2)));
}

/**
 * trades_data tuple (timestamp, instrument_id, symbol, price, size, side, trade_id, publisher_id) of record i
 * at `o`, written at p; returns its end, or 0 when a column rule fails (the record goes generic).
 */
// @ts-ignore: decorator
@inline function putTrade(p: usize, o: usize, i: i32, times: usize, symTab: usize, syms: usize): usize {
  const id = load<u32>(o, O_ID);
  const side = <u32>load<u8>(o, O_SIDE);
  const size = load<u32>(o, O_SIZE);
  const nanos = load<i64>(o, O_PRICE);
  const ns = load<u64>(o, O_TS_EVENT);
  // Sides A, B and N (no aggressor) are stored; anything else goes generic.
  const badSide = <i32>(side - 65 > 1) & <i32>(side != 78);
  if ((<i32>(id > INT4_MAX) | badSide | <i32>(size == 0) | badPrice(nanos) | <i32>(ns >= NS_LIMIT)) != 0) return 0;
  const publisher = <u32>load<u16>(o, O_PUBLISHER);
  p = putRowStart(p, 8, times, i, ns, id, symTab, syms);
  p = putNumeric8(p, <u64>(nanos + 5) / 10); // 9th decimal rounded half away from zero
  p = putInt8U32(p, size);
  store<u32>(p, 0x01000000);
  store<u8>(p, <u8>select<u32>(83, side, side == 65), 4); // A (sell aggressor) → 'S'; B and N as they are
  return putInt4(putIdPair(p + 5, publisher, load<u32>(o, O_SEQUENCE)), publisher);
}

/**
 * tbbo_data tuple (timestamp, instrument_id, symbol, bid_price, ask_price, bid_size, ask_size, publisher_id, sequence), as
 * putTrade: both sides present, positive and not crossed, else 0.
 */
// @ts-ignore: decorator
@inline function putTbbo(p: usize, o: usize, i: i32, times: usize, symTab: usize, syms: usize): usize {
  const id = load<u32>(o, O_ID);
  const bidSz = load<u32>(o, O_BID_SZ);
  const askSz = load<u32>(o, O_ASK_SZ);
  const bidN = load<i64>(o, O_BID_PX);
  const askN = load<i64>(o, O_ASK_PX);
  const ns = load<u64>(o, O_TS_EVENT);
  const bid = <u64>(bidN + 5) / 10;
  const ask = <u64>(askN + 5) / 10;
  if ((<i32>(id > INT4_MAX) | <i32>(bidSz == 0) | <i32>(askSz == 0) | badPrice(bidN) | badPrice(askN) | <i32>(ask < bid) | <i32>(ns >= NS_LIMIT)) != 0) return 0;
  p = putRowStart(p, 9, times, i, ns, id, symTab, syms);
  p = putNumeric8(p, bid);
  p = putNumeric8(p, ask);
  p = putInt8U32(p, bidSz);
  p = putInt8U32(p, askSz);
  p = putInt4(p, <u32>load<u16>(o, O_PUBLISHER));
  return putInt8U32(p, load<u32>(o, O_SEQUENCE));
}

/** Tables with a kernel (the host passes one). */
export const TRADES: i32 = 0;
export const TBBO: i32 = 1;

/**
 * Tuples of `table` (TRADES or TBBO) for the records at rec + offs[i] with syms[i] ≥ 0 (the index
 * of its symbol's entry in symTab; -1: not a candidate). Writes ends[k] (tuple end, relative to
 * `out`) per tuple and times[i] (µs, or -1 when no tuple) per record; returns the tuple count.
 * The table test is the same for every record, so the branch costs nothing.
 */
export function encodeTuples(table: i32, rec: usize, offs: usize, syms: usize, n: i32, symTab: usize, out: usize, ends: usize, times: usize): i32 {
  let p = out;
  let k = 0;
  minUs = u64.MAX_VALUE;
  maxUs = 0;
  for (let i = 0; i < n; i++) {
    const t = times + (<usize>i << 3);
    if (load<i32>(syms + (<usize>i << 2)) < 0) { store<f64>(t, -1); continue; }
    const o = rec + <usize>load<i32>(offs + (<usize>i << 2));
    const e = table == TRADES ? putTrade(p, o, i, times, symTab, syms) : putTbbo(p, o, i, times, symTab, syms);
    if (e == 0) { store<f64>(t, -1); continue; }
    p = e;
    store<i32>(ends + (<usize>k << 2), <i32>(p - out));
    k++;
  }
  outLen = <i32>(p - out);
  return k;
}
