/** Send bus fuzz cases (bus-cases.ts) over NATS with the users they name, and count what came back. */
import type { NatsConnection } from '@nats-io/nats-core';
import type { NatsUser } from '@acefleet/contracts';
import type { BusCase } from './bus-cases.ts';

/** A case whose answer is a fault: no answer, `internal`, an answer where none may come, a publish let through. */
export interface BusFinding {
  category: string;
  subject: string;
  outcome: string;
}

export interface BusTally {
  cases: number;
  /** Per outcome: `ok`, `error:<code>`, `denied`, `delivery dropped`, and the faults. */
  byOutcome: Record<string, number>;
  byCategory: Record<string, Record<string, number>>;
  findings: BusFinding[];
  durationMs: number;
}

/** The reply subject of a push consumer's delivery; a service that answered it would show up here. */
const DELIVERY_REPLY = '$JS.ACK.FUZZ.fuzz.1.1.1.0.0';
const FAULTS = new Set(['no answer', 'no responders', 'error:internal', 'answered a delivery', 'not denied']);

async function outcomeOf(nc: NatsConnection, c: BusCase, timeoutMs: number): Promise<string> {
  if (c.mode === 'delivery') {
    nc.publish(c.subject, c.payload, { reply: DELIVERY_REPLY });
    return 'delivery dropped';
  }
  try {
    const msg = await nc.request(c.subject, c.payload, { timeout: timeoutMs });
    if (c.mode === 'forbidden') return 'not denied';
    const code = msg.headers?.get('Nats-Service-Error-Code');
    if (!code) return 'ok';
    const body = (() => {
      try {
        return msg.json<{ error?: { code?: string } }>();
      } catch {
        return {};
      }
    })();
    return `error:${body.error?.code ?? code}`;
  } catch (err) {
    const text = String(err);
    if (/Permissions Violation/.test(text)) return c.mode === 'forbidden' ? 'denied' : 'denied (wrong user)';
    if (/no responders/i.test(text)) return 'no responders';
    return 'no answer';
  }
}

/**
 * Run every case, `concurrency` at a time, each as its user (`connect`); a subscriber on the delivery reply
 * subject counts answers to deliveries, which must never come.
 */
export async function runBusCases(
  cases: Iterable<BusCase>,
  o: { connect: (user: NatsUser) => Promise<NatsConnection>; concurrency: number; timeoutMs: number },
): Promise<BusTally> {
  const started = Date.now();
  const tally: BusTally = { cases: 0, byOutcome: {}, byCategory: {}, findings: [], durationMs: 0 };
  const connections = new Map<NatsUser, Promise<NatsConnection>>();
  const as = (user: NatsUser): Promise<NatsConnection> => {
    // A permission violation closes nothing, but keep one connection per user for the whole run.
    if (!connections.has(user)) connections.set(user, o.connect(user));
    return connections.get(user)!;
  };
  const operator = await as('operator');
  let answeredDeliveries = 0;
  const watch = operator.subscribe('$JS.ACK.FUZZ.>', {
    callback: () => {
      answeredDeliveries++;
    },
  });
  const count = (c: BusCase, outcome: string): void => {
    tally.cases++;
    tally.byOutcome[outcome] = (tally.byOutcome[outcome] ?? 0) + 1;
    const cat = (tally.byCategory[c.category] ??= {});
    cat[outcome] = (cat[outcome] ?? 0) + 1;
    if (FAULTS.has(outcome) && tally.findings.length < 50) {
      tally.findings.push({ category: c.category, subject: c.subject, outcome });
    }
  };
  const queue = [...cases];
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      for (let c = queue.shift(); c; c = queue.shift())
        count(c, await outcomeOf(await as(c.user), c, o.timeoutMs));
    }),
  );
  // Every delivery was followed by later requests the same services answered: an answer to one would be in.
  await operator.flush();
  watch.unsubscribe();
  if (answeredDeliveries > 0) {
    tally.byOutcome['answered a delivery'] = answeredDeliveries;
    tally.findings.push({
      category: 'JetStream delivery',
      subject: '$JS.ACK.FUZZ.>',
      outcome: 'answered a delivery',
    });
  }
  for (const nc of connections.values()) await (await nc).close();
  tally.durationMs = Date.now() - started;
  return tally;
}
