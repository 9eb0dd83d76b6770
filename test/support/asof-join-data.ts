/** The as-of join's hand-built case: quotes and trades of two symbols, two venues, ties at one microsecond, a chunk boundary. */
export const ES = 'ES.FUT';
export const NQ = 'NQ.FUT';
export const START = '2024-03-04T09:00:00Z';
export const END = '2024-03-04T11:00:00Z';

// Quotes. ES is instrument 1 on venues 1 and 2, NQ instrument 2 on venue 1. trades/tbbo chunks
// are 1 hour: the 09:59:59 quotes sit in the chunk before the trades that use them.
export const QUOTES = [
  {
    ts: '2024-03-04T09:59:59.000000Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 1,
    sequence: 10,
    bid_px_00: '100.25',
    ask_px_00: '100.50',
    bid_sz_00: 5,
    ask_sz_00: 6,
  }, // Q1
  {
    ts: '2024-03-04T09:59:59.500000Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 2,
    sequence: 3,
    bid_px_00: '100.00000001',
    ask_px_00: '100.75',
    bid_sz_00: 1,
    ask_sz_00: 2,
  }, // Q2
  {
    ts: '2024-03-04T10:00:01.000000Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 1,
    sequence: 21,
    bid_px_00: '100.00',
    ask_px_00: '101.00',
    bid_sz_00: 7,
    ask_sz_00: 8,
  }, // Q4 (stored first)
  {
    ts: '2024-03-04T10:00:01.000000Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 1,
    sequence: 20,
    bid_px_00: '100.50',
    ask_px_00: '100.75',
    bid_sz_00: 3,
    ask_sz_00: 4,
  }, // Q3
  {
    ts: '2024-03-04T10:00:03.000000Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 1,
    sequence: 30,
    bid_px_00: '101.00',
    ask_px_00: null,
    bid_sz_00: 9,
    ask_sz_00: null,
  }, // Q5
  {
    ts: '2024-03-04T10:00:05.000000Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 2,
    sequence: 4,
    bid_px_00: '100.50',
    ask_px_00: '101.25',
    bid_sz_00: 1,
    ask_sz_00: 1,
  }, // Q6
  {
    ts: '2024-03-04T10:00:02.000000Z',
    symbol: NQ,
    instrument_id: 2,
    publisher_id: 1,
    sequence: 1,
    bid_px_00: '18000.25',
    ask_px_00: '18000.50',
    bid_sz_00: 2,
    ask_sz_00: 3,
  }, // QN
];

export const TRADES = [
  {
    ts: '2024-03-04T09:59:58.000000Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 1,
    trade_id: '1:100',
    price: '100.25',
    size: 1,
    side: 'B' as const,
  }, // T0
  {
    ts: '2024-03-04T10:00:00.000001Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 1,
    trade_id: '1:101',
    price: '100.50',
    size: 2,
    side: 'B' as const,
  }, // T1
  {
    ts: '2024-03-04T10:00:00.000001Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 2,
    trade_id: '2:50',
    price: '100.75',
    size: 3,
    side: 'S' as const,
  }, // T2
  {
    ts: '2024-03-04T10:00:01.000000Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 1,
    trade_id: '1:102',
    price: '100.75',
    size: 4,
    side: 'B' as const,
  }, // T3
  {
    ts: '2024-03-04T10:00:01.000000Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 1,
    trade_id: '1:99',
    price: '100.50',
    size: 5,
    side: 'S' as const,
  }, // T4
  {
    ts: '2024-03-04T10:00:04.000000Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 2,
    trade_id: '2:51',
    price: '100.75',
    size: 6,
    side: 'N' as const,
  }, // T5
  {
    ts: '2024-03-04T10:00:03.500000Z',
    symbol: ES,
    instrument_id: 1,
    publisher_id: 1,
    trade_id: '1:103',
    price: '101.00',
    size: 7,
    side: 'B' as const,
  }, // T6
  {
    ts: '2024-03-04T10:00:01.000000Z',
    symbol: NQ,
    instrument_id: 2,
    publisher_id: 1,
    trade_id: '1:7',
    price: '18000.50',
    size: 1,
    side: 'B' as const,
  }, // TN
];
