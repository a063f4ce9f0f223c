/**
 * Fuzz cases for the NATS bus endpoints (`npm run fuzz`, docs/security.md): malformed, odd and hostile
 * messages to every micro-service endpoint of the four services, sent with the credentials of the service
 * that may call it (a proxy's calls under its own name, the admin endpoints as the operator), plus calls under
 * another proxy's name (refused by nats-server) and JetStream-shaped messages (refused by the services).
 * No case can change the fleet: state-changing endpoints get only shapes they refuse or unknown targets.
 */
import { Subjects, hostSubject, proxyCallSubject, proxySubject, type NatsUser } from '@acefleet/contracts';
import { hex, int, pick, type Rng } from './gen.ts';

/**
 * How a case is sent: `request` waits for an answer; `delivery` publishes with a `$JS.ACK.…` reply, as a push
 * consumer delivers, and expects none; `forbidden` is a request under a subject the user may not publish.
 */
export type BusMode = 'request' | 'delivery' | 'forbidden';

export interface BusCase {
  category: string;
  endpoint: string;
  subject: string;
  user: NatsUser;
  mode: BusMode;
  payload: Uint8Array;
}

/** The stack the cases are aimed at: the proxy's id and NATS user, and the manager's host. */
export interface BusTargets {
  proxyUser: NatsUser;
  proxyId: string;
  /** Another proxy's user, whose subjects `proxyUser` may not publish. */
  otherProxyUser: NatsUser;
  hostId: string;
}

const enc = new TextEncoder();
const json = (value: unknown): Uint8Array => enc.encode(JSON.stringify(value));

/**
 * Hostile payloads: not JSON, wrong shapes, hostile values. For `provision`, whose every field is optional,
 * only those that are no object without `count` (an empty body or `{"__proto__":…}` is a valid request to
 * start one engine, which would change the fleet).
 */
function hostile(rng: Rng, endpoint: string): [string, Uint8Array] {
  const deep = (n: number): unknown => (n === 0 ? {} : { a: deep(n - 1) });
  const cases: [string, () => Uint8Array][] = [
    ['not JSON', () => enc.encode(`{"engineId": ${hex(rng, 8)}`)],
    ['empty', () => new Uint8Array(0)],
    ['JSON array', () => json([1, 2, 3])],
    ['JSON null', () => json(null)],
    ['JSON string', () => json('x'.repeat(int(rng, 0, 100)))],
    ['huge string field', () => json({ engineId: 'e'.repeat(int(rng, 200, 200_000)) })],
    ['deep nesting', () => json(deep(int(rng, 50, 500)))],
    ['non-finite number', () => enc.encode(`{"count":1e309,"deadlineMs":1e309,"claims":[]}`)],
    ['numeric strings', () => json({ count: '1e309', deadlineMs: 'Infinity', all: 'true' })],
    ['prototype keys', () => enc.encode(`{"__proto__":{"admin":true},"constructor":{"prototype":{}}}`)],
    ['control and unicode bytes', () => enc.encode(`{"engineId":"\\u0000\\ud800${'\u202e'.repeat(10)}"}`)],
    ['binary', () => Uint8Array.from({ length: int(rng, 1, 4096) }, () => int(rng, 0, 255))],
  ];
  const objectsWithoutCount = [
    'empty',
    'huge string field',
    'deep nesting',
    'prototype keys',
    'control and unicode bytes',
  ];
  const [name, make] = pick(
    rng,
    endpoint === 'provision' ? cases.filter(([n]) => !objectsWithoutCount.includes(n)) : cases,
  );
  return [name, make()];
}

/** Shapes an endpoint reads but refuses, or accepts for targets that do not exist: nothing changes. */
function refusedShape(rng: Rng, endpoint: string, t: BusTargets): unknown {
  const content = { kind: 'id', value: hex(rng, 40) };
  const past = new Date(Date.now() - 60_000).toISOString();
  const shapes: Record<string, unknown[]> = {
    acquire: [
      { content, proxyId: t.proxyId, deadline: past },
      { content: { kind: 'url', value: 'http://x' }, proxyId: t.proxyId },
      { content, proxyId: t.proxyId, excludeEngineIds: Array.from({ length: 65 }, () => 'e') },
    ],
    // Under the proxy's name, for another proxy's id: refused (forbidden). The per-host subject trusts its
    // caller (only managers and the operator may publish it), so it never gets this shape.
    'proxy acquire': [{ content, proxyId: `${t.otherProxyUser}.someone` }],
    release: [
      { engineId: hex(rng, 8), claimId: hex(rng, 8) },
      { proxyId: `${t.otherProxyUser}.someone`, all: true },
      { proxyId: t.proxyId, all: false },
    ],
    renew: [
      { proxyId: t.proxyId, claims: [{ engineId: hex(rng, 8), claimId: hex(rng, 8), contentKey: 'id:x' }] },
      { proxyId: `${t.otherProxyUser}.someone`, claims: [] },
      { proxyId: t.proxyId, claims: Array.from({ length: 5001 }, () => ({ engineId: 'e', claimId: 'c' })) },
    ],
    provision: [{ count: 0 }, { count: 21 }, { count: 1.5 }, { count: -1 }],
    drain: [{ engineId: hex(rng, 8) }, { engineId: hex(rng, 8), deadlineMs: -1 }],
    remove: [
      { engineId: hex(rng, 8), force: true },
      { engineId: hex(rng, 8), force: 'yes' },
    ],
    stop: [{ streamId: hex(rng, 8) }, { claimId: hex(rng, 8) }, { streamId: 'x', claimId: 'y' }],
  };
  return pick(rng, shapes[endpoint] ?? [{}]);
}

/** refusedShape for an endpoint reached on `subject`: a proxy's acquire also gets another proxy's id. */
function refusedShapeOn(rng: Rng, endpoint: string, subject: string, t: BusTargets): unknown {
  const asProxy = endpoint === 'acquire' && subject === proxyCallSubject('acquire', t.proxyId);
  return refusedShape(rng, asProxy && rng() < 0.3 ? 'proxy acquire' : endpoint, t);
}

/** Every endpoint, the subject it is reached on and the user that may call it. */
function endpoints(t: BusTargets): { endpoint: string; subject: string; user: NatsUser }[] {
  const operator: NatsUser = 'operator';
  return [
    { endpoint: 'acquire', subject: proxyCallSubject('acquire', t.proxyId), user: t.proxyUser },
    { endpoint: 'release', subject: proxyCallSubject('release', t.proxyId), user: t.proxyUser },
    { endpoint: 'renew', subject: proxyCallSubject('renew', t.proxyId), user: t.proxyUser },
    { endpoint: 'list', subject: Subjects.engineList, user: operator },
    { endpoint: 'status', subject: Subjects.engineStatus, user: operator },
    { endpoint: 'provision', subject: Subjects.engineProvision, user: operator },
    { endpoint: 'drain', subject: Subjects.engineDrain, user: operator },
    { endpoint: 'remove', subject: Subjects.engineRemove, user: operator },
    { endpoint: 'acquire', subject: hostSubject(t.hostId, 'acquire'), user: operator },
    { endpoint: 'provision', subject: hostSubject(t.hostId, 'provision'), user: operator },
    { endpoint: 'status', subject: hostSubject(t.hostId, 'status'), user: operator },
    { endpoint: 'streams', subject: proxySubject(t.proxyId, 'streams'), user: operator },
    { endpoint: 'stop', subject: proxySubject(t.proxyId, 'stop'), user: operator },
    { endpoint: 'summary', subject: Subjects.statsSummary, user: operator },
    { endpoint: 'ping', subject: '$SRV.PING', user: operator },
    { endpoint: 'info', subject: '$SRV.INFO', user: operator },
    { endpoint: 'stats', subject: '$SRV.STATS', user: operator },
  ];
}

/** `count` bus cases from `seed`. */
export function* generateBusCases(count: number, rng: Rng, t: BusTargets): Generator<BusCase> {
  const all = endpoints(t);
  for (let i = 0; i < count; i++) {
    const target = pick(rng, all);
    const roll = rng();
    if (roll < 0.1 && target.user === t.proxyUser) {
      // Under another proxy's name: nats-server refuses the publish.
      yield {
        category: 'as another proxy',
        endpoint: target.endpoint,
        subject: proxyCallSubject(target.endpoint as 'acquire', `${t.otherProxyUser}.x`),
        user: t.proxyUser,
        mode: 'forbidden',
        payload: json(refusedShapeOn(rng, target.endpoint, target.subject, t)),
      };
    } else if (roll < 0.25 && !target.subject.startsWith('$SRV.')) {
      // As a push consumer would deliver a stored message: no requester, never acted on.
      yield {
        category: 'JetStream delivery',
        ...target,
        user: 'operator',
        mode: 'delivery',
        payload: json(refusedShapeOn(rng, target.endpoint, target.subject, t)),
      };
    } else if (roll < 0.6) {
      yield {
        category: 'refused shape',
        ...target,
        mode: 'request',
        payload: json(refusedShapeOn(rng, target.endpoint, target.subject, t)),
      };
    } else {
      const [category, payload] = hostile(rng, target.endpoint);
      yield { category, ...target, mode: 'request', payload };
    }
  }
}
