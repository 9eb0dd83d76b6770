/**
 * Some operations (refreshing rollups, compressing and dropping chunks, migrations) need the owner
 * of tickvault's tables; the least-privilege loader role is not. Asking first turns the server's
 * "must be owner of materialized view ohlcv_hourly" halfway through `maintain` into one line that
 * names the owner to run as.
 */
import type { Queryable } from '../engine/types.js';
import { TickvaultError } from '../errors.js';
import { MARKET_TABLES } from '../schema/tables.js';

/** The current role may not do what `purpose` needs; the message names the owner to run it as. */
export class NotOwnerError extends TickvaultError {
  constructor(message: string) {
    super('NOT_OWNER', message);
  }
}

/** Throws NotOwnerError unless the current role owns (or is a member of the owner of) every market table. */
export async function requireTableOwner(db: Queryable, purpose: string): Promise<void> {
  const { rows } = await db.query<{ me: string; owners: string[] | null }>(
    `SELECT current_user AS me,
            array_agg(DISTINCT pg_get_userbyid(c.relowner)::text) FILTER (WHERE NOT pg_has_role(current_user, c.relowner, 'USAGE')) AS owners
       FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1::text[])`,
    [MARKET_TABLES.map((s) => s.name)],
  );
  const row = rows[0];
  const owners = row?.owners ?? [];
  if (owners.length === 0) return;
  throw new NotOwnerError(
    `${purpose} needs the owner of tickvault's tables (${owners.join(', ')}); role ${row?.me} is not: run it as ${owners.join(' or ')}`,
  );
}
