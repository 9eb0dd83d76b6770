/**
 * The producer pacer (src/load/pacer.ts): the batch producer runs only while no worker is in a
 * round-trip phase, or while a worker waits for a batch; a worker that finishes a phase goes on
 * before the producer's next slice.
 */
import { describe, expect, it } from 'vitest';
import { ProducerPacer } from '../../src/load/pacer.js';

const turn = () => new Promise<void>((r) => setImmediate(r));
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

/** A producer that counts its slices until stopped. */
function producer(pacer: ProducerPacer) {
  const state = { slices: 0, stop: false };
  const done = (async () => {
    while (!state.stop) {
      await pacer.pace();
      state.slices += 1;
    }
  })();
  return { state, done };
}

describe('ProducerPacer', () => {
  it('parks the producer during a round-trip phase and lets it run during the COPY (serverBusy)', async () => {
    const pacer = new ProducerPacer();
    const { state, done } = producer(pacer);
    await turns(5);
    expect(state.slices).toBeGreaterThan(0); // nobody in a phase: it runs

    await pacer.roundTrips(async () => {
      await turns(2);
      const before = state.slices;
      await turns(10);
      expect(state.slices - before).toBeLessThanOrEqual(1); // parked (at most the slice already scheduled)
      await pacer.serverBusy(async () => {
        const s0 = state.slices;
        await turns(10);
        expect(state.slices - s0).toBeGreaterThanOrEqual(5); // the server is busy: the producer works
      });
      const after = state.slices;
      await turns(10);
      expect(state.slices - after).toBeLessThanOrEqual(1); // parked again until the phase ends
    });
    const s1 = state.slices;
    await turns(10);
    expect(state.slices - s1).toBeGreaterThanOrEqual(5);
    state.stop = true;
    await turns(3);
    await done;
  });

  it('a worker waiting for a batch that is still being made opens the gate (no deadlock)', async () => {
    const pacer = new ProducerPacer();
    // The producer needs 20 slices to make the one item the worker asks for.
    async function* items(): AsyncGenerator<number> {
      for (let i = 0; i < 20; i++) await pacer.pace();
      yield 42;
    }
    const got = await pacer.roundTrips(async () => {
      // Another worker is in a round-trip phase (this one), yet the feed must still be served.
      const it = pacer.feed(items())[Symbol.asyncIterator]();
      const r = await it.next();
      await it.return?.(undefined);
      return r.value;
    });
    expect(got).toBe(42);
  });

  it('a ready batch reaches the worker before the producer runs another slice', async () => {
    const pacer = new ProducerPacer();
    const order: string[] = [];
    async function* items(): AsyncGenerator<number> {
      yield 1;
      yield 2;
    }
    const feed = pacer.feed(items())[Symbol.asyncIterator]();
    const { state, done } = producer(pacer);
    let before = 0;
    await pacer.roundTrips(async () => {
      await turns(3);
      const s0 = state.slices;
      await pacer.serverBusy(async () => {
        await turns(3);
      });
      await turns(3);
      // Phase ends now; the worker takes its next (ready) batch and starts its next phase at once.
      order.push(`slices-after-copy:${state.slices - s0 > 0}`);
      before = state.slices;
    });
    const r = await feed.next();
    await pacer.roundTrips(async () => {
      order.push(`got ${r.value} after ${state.slices - before} producer slices`);
      await turns(5);
    });
    expect(order).toEqual(['slices-after-copy:true', 'got 1 after 0 producer slices']);
    state.stop = true;
    await turns(3);
    await done;
  });
});
