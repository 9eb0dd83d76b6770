/**
 * A value computed at most once per `maxAgeMs`: callers within the age share the last result,
 * and concurrent callers past it share one computation in flight. A failed computation is not
 * kept, so the next caller retries.
 */
export interface Cached<T> {
  get(): Promise<T>;
  /** How often the computation ran (for tests and for the console's own diagnostics). */
  readonly computations: number;
}

export function cached<T>(compute: () => Promise<T>, maxAgeMs: number, now: () => number = () => performance.now()): Cached<T> {
  let value: { at: number; v: T } | undefined;
  let inFlight: Promise<T> | undefined;
  let computations = 0;
  return {
    get computations() {
      return computations;
    },
    get(): Promise<T> {
      if (value && now() - value.at < maxAgeMs) return Promise.resolve(value.v);
      inFlight ??= (async () => {
        computations++;
        const started = now();
        try {
          const v = await compute();
          value = { at: started, v };
          return v;
        } finally {
          inFlight = undefined;
        }
      })();
      return inFlight;
    },
  };
}
