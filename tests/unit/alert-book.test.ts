import { describe, expect, it } from 'vitest';
import { AlertBook, type ArmedAlert } from '../../server/modules/market/alert-book';
import { ALERT_TYPES } from '../../shared/market-alerts';

// The sorted book against the obvious computation: every armed alert whose condition the
// value meets, checked one by one. Random levels (with ties), adds, removals and loads.

function rng(seed: number) {
  return () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

const meets = (a: ArmedAlert, kind: 'price' | 'rsi', x: number) =>
  a.type === `${kind}_above` ? x > a.value : a.type === `${kind}_below` ? x < a.value : false;

describe('AlertBook', () => {
  it('takes out exactly the alerts a value crosses, on the right series, each once', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rand = rng(seed);
      const book = new AlertBook();
      const armed = new Map<number, ArmedAlert>();
      const make = (id: number): ArmedAlert => ({
        id,
        userId: `u${id % 7}`,
        symbol: rand() < 0.8 ? 'BTCUSDT' : 'ETHUSDT',
        timeframe: rand() < 0.8 ? '1m' : '5m',
        type: ALERT_TYPES[Math.floor(rand() * 4)]!,
        // Few distinct levels: ties are common.
        value: Math.round(rand() * 40) + 30,
      });
      const initial = Array.from({ length: 300 }, (_, i) => make(i + 1));
      book.load(initial);
      for (const a of initial) armed.set(a.id, a);
      let next = 301;
      for (let round = 0; round < 400; round++) {
        const r = rand();
        if (r < 0.3) {
          const a = make(next++);
          book.set(a);
          armed.set(a.id, a);
        } else if (r < 0.4 && armed.size) {
          const id = [...armed.keys()][Math.floor(rand() * armed.size)]!;
          book.delete(id);
          armed.delete(id);
        } else if (r < 0.45 && armed.size) {
          // Replaced under the same id with another level.
          const id = [...armed.keys()][Math.floor(rand() * armed.size)]!;
          const a = { ...make(id), id };
          book.set(a);
          armed.set(id, a);
        } else {
          const kind = rand() < 0.5 ? 'price' : 'rsi';
          const x = Math.round(rand() * 44) + 28;
          const taken = kind === 'price' ? book.onPrice('BTCUSDT', '1m', x) : book.onRsi('BTCUSDT', '1m', x);
          const expected = [...armed.values()]
            .filter((a) => a.symbol === 'BTCUSDT' && a.timeframe === '1m' && meets(a, kind, x))
            .map((a) => a.id)
            .sort((p, q) => p - q);
          expect(taken.map((a) => a.id).sort((p, q) => p - q)).toEqual(expected);
          for (const id of expected) armed.delete(id);
        }
        expect(book.size).toBe(armed.size);
      }
    }
  });

  it('does not fire on a value equal to the level, nor on NaN', () => {
    const book = new AlertBook();
    book.set({ id: 1, userId: 'u', symbol: 'BTCUSDT', timeframe: '1m', type: 'price_above', value: 100 });
    book.set({ id: 2, userId: 'u', symbol: 'BTCUSDT', timeframe: '1m', type: 'price_below', value: 100 });
    expect(book.onPrice('BTCUSDT', '1m', 100)).toEqual([]);
    expect(book.onPrice('BTCUSDT', '1m', Number.NaN)).toEqual([]);
    expect(book.onRsi('BTCUSDT', '1m', 150)).toEqual([]);
    expect(book.onPrice('BTCUSDT', '1m', 100.01).map((a) => a.id)).toEqual([1]);
    expect(book.onPrice('BTCUSDT', '1m', 99.99).map((a) => a.id)).toEqual([2]);
    expect(book.size).toBe(0);
  });
});
