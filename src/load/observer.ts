/**
 * An optional hook a caller passes to a load to watch it from the same process (e.g. to feed
 * Prometheus histograms). The loader only calls it; it never prints or keeps global state.
 * Calls are synchronous and must not throw: a slow or failing observer would slow or fail loads.
 */
export interface LoadObserver {
  /** One write of rows into the table (COPY or INSERT), inside its batch's transaction. */
  batchWritten?(event: { readonly table: string; readonly rows: number; readonly seconds: number }): void;
  /** The load ended: completed, or failed (its committed batches stay). */
  loadFinished?(event: { readonly table: string; readonly status: 'completed' | 'failed'; readonly seconds: number }): void;
}
