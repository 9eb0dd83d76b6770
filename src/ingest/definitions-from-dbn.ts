/**
 * DBN instrument definitions → DefinitionsLoader records (reference §7). Definitions are few, so
 * this uses the decoder's object path. Fallbacks are deliberately minimal: an UNDEF tick size or
 * multiplier becomes NULL (equities on XNAS and EQUS publish neither; both columns are nullable
 * from schema version 6) rather than an invented value.
 */
import type { DbnRecord, DefinitionRecord as DbnDefinition } from '../dbn/records.js';
import type { SymbolMap } from '../dbn/symbology.js';
import type { DefinitionRecord } from '../load/definitions.js';

const UNDEF_I64 = 0x7fffffffffffffffn;
const UNDEF_U64 = 0xffffffffffffffffn;

export async function* definitionRecords(records: AsyncIterable<DbnRecord>, symbols: SymbolMap): AsyncIterable<DefinitionRecord> {
  for await (const r of records) {
    if (r.kind !== 'definition') continue;
    yield toDefinition(r, symbols);
  }
}

function toDefinition(d: DbnDefinition, symbols: SymbolMap): DefinitionRecord {
  const tsRecvUs = Number(d.tsRecv / 1000n);
  // The definition names its own instrument: raw_symbol is authoritative for the contract's symbol
  // column; a metadata mapping (e.g. a requested parent symbol) would not be unique per instrument.
  const symbol = d.rawSymbol || symbols.resolve(d.instrumentId, tsRecvUs) || '';
  const expiration =
    d.expiration === UNDEF_U64 || d.expiration === 0n ? null : new Date(Number(d.expiration / 1_000_000n)).toISOString().slice(0, 10);
  return {
    instrument_id: d.instrumentId,
    symbol,
    raw_symbol: d.rawSymbol,
    asset: d.asset,
    exchange: d.exchange,
    currency: d.currency,
    tick_size: d.minPriceIncrement === UNDEF_I64 ? null : { value: d.minPriceIncrement, scale: 9 },
    multiplier: d.unitOfMeasureQty === UNDEF_I64 ? null : { value: d.unitOfMeasureQty, scale: 9 },
    publisher_id: d.publisherId,
    expiration_date: expiration,
    is_active: d.securityUpdateAction !== 'D',
    ts_recv: d.tsRecv,
  };
}
