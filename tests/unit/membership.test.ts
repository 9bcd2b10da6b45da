import { afterEach, describe, expect, it } from 'vitest';
import { ClusterMembership, type MembershipChange } from '../../server/cluster/membership';
import { topic } from '../../server/realtime/bus';
import { createMemoryBus, type EventBus } from '../../server/realtime/bus';
import { capturedLog } from '../helpers/log';
import { waitFor } from '../helpers/wait';

// Several "instances" of the cross-instance membership on one in-process bus: each has its own
// instance id, so each hears only the others, as over LISTEN/NOTIFY or Redis. The real buses
// carry the same messages between processes (tests/integration/presence.test.ts).

const PERIOD = 50;
const { log } = capturedLog('silent');
const open: ClusterMembership[] = [];
afterEach(() => {
  for (const m of open.splice(0)) m.close({ goodbye: false });
});

function instance(bus: EventBus, id: string, opts: { maxKeysPerMember?: number } = {}) {
  const m = new ClusterMembership({
    bus,
    log,
    instanceId: id,
    name: 'test',
    shared: true,
    periodMs: PERIOD,
    maxKeysPerMember: opts.maxKeysPerMember ?? 10,
  });
  open.push(m);
  return m;
}

function record(m: ClusterMembership, key: string) {
  const changes: string[] = [];
  m.listen(key, (c: MembershipChange) => void changes.push(`${c.type} ${c.member.id} ${c.count}`));
  return changes;
}

/** A bus that loses the publishes of `muted` while it is set: a listener that was down. */
function lossyBus() {
  const bus = createMemoryBus(() => {});
  const state = { drop: false };
  const lossy: EventBus = { ...bus, publish: (t, p) => void (state.drop || bus.publish(t, p)) };
  return { bus, lossy, state };
}

describe('membership over several instances on one bus', () => {
  it('a member on two instances, with two entries on one, is one member; it leaves with its last entry anywhere', async () => {
    const bus = createMemoryBus(() => {});
    const a = instance(bus, 'a');
    const b = instance(bus, 'b');
    const seenOnB = record(b, 'room');
    const leaveA1 = a.enter('room', { id: 'ann', name: 'Ann' })!;
    await waitFor(() => b.count('room') === 1, { what: 'B to see Ann' });
    expect(b.members('room', 10)).toMatchObject([{ id: 'ann', name: 'Ann' }]);
    const leaveA2 = a.enter('room', { id: 'ann', name: 'Ann' })!;
    const leaveB = b.enter('room', { id: 'ann', name: 'Ann' })!;
    leaveA1();
    leaveA1(); // twice is once
    leaveA2();
    // A's leave has reached B (A's change messages, in order), and Ann is still there through B.
    await waitFor(() => a.count('room') === 1 && b.sizes().instances === 1, { what: 'A to hear B' });
    expect(b.count('room')).toBe(1);
    leaveB();
    await waitFor(() => a.count('room') === 0, { what: 'A to see Ann leave' });
    expect(seenOnB).toEqual(['join ann 1', 'leave ann 0']);
    expect(a.sizes()).toMatchObject({ keys: 0, localKeys: 0, localMembers: 0 });
    expect(b.sizes()).toMatchObject({ keys: 0, localKeys: 0, localMembers: 0 });
  });

  it('an instance that starts late is sent what the others hold', async () => {
    const bus = createMemoryBus(() => {});
    const a = instance(bus, 'a');
    a.enter('room', { id: 'ann', name: 'Ann' });
    a.enter('other', { id: 'bob', name: 'Bob' });
    const late = instance(bus, 'late');
    await waitFor(() => late.count('room') === 1 && late.count('other') === 1, { what: 'the snapshot' });
    expect(late.members('room', 10)).toMatchObject([{ id: 'ann', name: 'Ann' }]);
  });

  it('an instance gone silent is dropped with its members after three periods; one saying goodbye at once', async () => {
    const bus = createMemoryBus(() => {});
    const a = instance(bus, 'a');
    const b = instance(bus, 'b');
    const c = instance(bus, 'c');
    a.enter('room', { id: 'ann', name: 'Ann' });
    c.enter('room', { id: 'cat', name: 'Cat' });
    await waitFor(() => b.count('room') === 2, { what: 'B to see both' });
    const started = Date.now();
    a.close({ goodbye: false });
    await waitFor(() => b.count('room') === 1, { what: "A's members to lapse" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * PERIOD);
    c.close();
    expect(b.count('room')).toBe(0);
    expect(b.sizes()).toMatchObject({ keys: 0, instances: 0 });
  });

  it('a receiver that missed a change learns it from the next heartbeat (it asks for a snapshot)', async () => {
    const { bus, lossy, state } = lossyBus();
    const a = instance(lossy, 'a');
    const b = instance(bus, 'b');
    a.enter('room', { id: 'ann', name: 'Ann' });
    await waitFor(() => b.count('room') === 1, { what: 'B to see Ann' });
    state.drop = true;
    const leave = a.enter('room', { id: 'bob', name: 'Bob' })!;
    await new Promise((r) => setImmediate(r));
    state.drop = false;
    expect(b.count('room')).toBe(1);
    await waitFor(() => b.count('room') === 2, { what: 'B to catch up' });
    state.drop = true;
    leave();
    await new Promise((r) => setImmediate(r));
    state.drop = false;
    await waitFor(() => b.count('room') === 1, { what: 'B to catch up on the leave' });
    expect(b.members('room', 10).map((m) => m.id)).toEqual(['ann']);
  });

  it('an instance restarted under the same name is a new one: what the old one held is gone', async () => {
    const bus = createMemoryBus(() => {});
    const first = instance(bus, 'a');
    const b = instance(bus, 'b');
    first.enter('room', { id: 'ann', name: 'Ann' });
    await waitFor(() => b.count('room') === 1, { what: 'B to see Ann' });
    first.close({ goodbye: false });
    const again = instance(bus, 'a');
    again.enter('room', { id: 'bob', name: 'Bob' });
    await waitFor(() => b.count('room') === 1 && b.members('room', 10)[0]?.id === 'bob', { what: 'only Bob' });
  });

  it('bounds the keys one member holds on an instance, and the members listed', () => {
    const bus = createMemoryBus(() => {});
    const a = instance(bus, 'a', { maxKeysPerMember: 2 });
    const leaves = [a.enter('one', { id: 'ann', name: 'Ann' }), a.enter('two', { id: 'ann', name: 'Ann' })];
    // Another entry of a key already held is not one more key.
    expect(a.enter('two', { id: 'ann', name: 'Ann' })).not.toBeNull();
    expect(a.enter('three', { id: 'ann', name: 'Ann' })).toBeNull();
    leaves[0]!();
    expect(a.enter('three', { id: 'ann', name: 'Ann' })).not.toBeNull();
    for (let i = 0; i < 5; i++) a.enter('big', { id: `u${i}`, name: `U${i}` });
    expect(a.members('big', 3).map((m) => m.id)).toEqual(['u0', 'u1', 'u2']);
    expect(a.count('big')).toBe(5);
  });

  it('a snapshot too big for one message arrives in parts, whole', async () => {
    const bus = createMemoryBus(() => {});
    const sizes: number[] = [];
    bus.subscribe(topic<{ kind: string }>('cluster:membership:test'), (m) => {
      if (m.kind === 'snapshot') sizes.push(JSON.stringify(m).length);
    });
    const a = instance(bus, 'a');
    const name = 'Ö'.repeat(60);
    for (let i = 0; i < 300; i++) a.enter(`room-${i % 7}`, { id: `user-${i}`, name });
    const late = instance(bus, 'late');
    await waitFor(() => [0, 1, 2, 3, 4, 5, 6].every((i) => late.count(`room-${i}`) === a.count(`room-${i}`)), {
      what: 'the whole snapshot',
    });
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThan(7_000);
  });

  it('a malformed message or a listener that throws is logged, and the others keep being served', async () => {
    const { log: seen, text } = capturedLog('error');
    const bus = createMemoryBus(() => {});
    const a = new ClusterMembership({
      bus,
      log: seen,
      instanceId: 'a',
      name: 'test',
      shared: true,
      periodMs: PERIOD,
      maxKeysPerMember: 10,
    });
    open.push(a);
    const b = instance(bus, 'b');
    const garbage = topic<unknown>('cluster:membership:test');
    bus.publish(garbage, { kind: 'changes', instance: 'x', epoch: 'e', seq: 1, changes: 'not a list' });
    bus.publish(garbage, {
      kind: 'snapshot',
      instance: 'y',
      epoch: 'e',
      seq: 1,
      first: true,
      last: true,
      entries: [[1, 2]],
    });
    bus.publish(garbage, null);
    const heard: string[] = [];
    a.listen('room', () => {
      throw new Error('listener broke');
    });
    a.listen('room', (c) => void heard.push(c.type));
    b.enter('room', { id: 'bob', name: 'Bob' });
    await waitFor(() => heard.length === 1, { what: 'the second listener' });
    expect(a.count('room')).toBe(1);
    expect(text()).toMatch(/membership message failed; still serving/);
    expect(text()).toMatch(/membership listener failed; still serving/);
  });
});
