import test from 'ava';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import { Svcm } from '@nats-io/services';
import { ListReply, ServiceNames, Subjects } from '@acefleet/contracts';
import {
  containersWithLabels,
  ffprobeBytes,
  inspectContainer,
  Player,
  repoRoot,
  startStack,
  waitFor,
  type Stack,
} from '@acefleet/testkit';

const CONTENT = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

let stack: Stack;
test.before(async () => {
  stack = await startStack();
});
test.after.always(async () => {
  await stack?.stop();
});

async function engines(): Promise<ListReply['engines']> {
  const nc = await stack.nats.connect();
  try {
    const msg = await nc.request(Subjects.engineList, '{}', { timeout: 5000 });
    return msg.json<ListReply>().engines;
  } finally {
    await nc.close();
  }
}

test.serial('three players of one id share one engine session and each gets MPEG-TS video', async (t) => {
  const url = `${stack.proxyUrl()}/ace/getstream?id=${CONTENT}`;
  const players = await Promise.all([0, 1, 2].map(() => Player.open(url, 400_000)));
  await waitFor(() => players.every((p) => p.bytes >= 400_000), 20_000);
  players.forEach((p) => p.close());
  for (const p of players) {
    t.is(p.status, 200);
    t.is(p.headers['content-type'], 'video/mp2t');
    const body = p.head.subarray(0, p.head.length - (p.head.length % 188));
    t.true(body.length >= 188 * 100, `got ${body.length} bytes`);
    t.true(
      body.every((byte, i) => i % 188 !== 0 || byte === 0x47),
      'whole TS packets from the first byte',
    );
    const probe = await ffprobeBytes(body);
    t.is(probe.formatName, 'mpegts');
    t.true(probe.streams.some((s) => s.codec_type === 'video'));
  }

  const [engine] = await engines();
  t.truthy(engine, 'engine-manager recorded an engine');
  const sim = (await (await fetch(`${engine!.baseUrl}/__sim/stats`)).json()) as {
    sessionsStarted: number;
  };
  t.is(sim.sessionsStarted, 1, 'the engine saw exactly one upstream session');

  if (stack.runtime === 'docker') {
    const ids = await containersWithLabels([`io.acefleet.host=${stack.hostId}`, 'io.acefleet.managed=true']);
    t.is(ids.length, 1, 'engine-manager started one labelled container');
    const info = await inspectContainer(ids[0]!);
    t.is(info.Config.Labels['io.acefleet.engine-id'], engine!.id);
    t.true(info.State.Running);
  }
});

test.serial('after the last player leaves the session is stopped and stats records why', async (t) => {
  const [engine] = await engines();
  await waitFor(async () => {
    const sim = (await (await fetch(`${engine!.baseUrl}/__sim/stats`)).json()) as {
      stopsReceived: number;
      activeSessions: number;
    };
    return sim.stopsReceived >= 1 && sim.activeSessions === 0;
  }, 10_000);
  const sessions = await waitFor(async () => {
    const res = await fetch(`${stack.services.stats!.url}/api/sessions`);
    const body = (await res.json()) as {
      sessions: { reason: string | null; contentValue: string; bytesOut: number }[];
    };
    return body.sessions.length === 1 && body.sessions[0]!.reason !== null ? body.sessions : false;
  }, 10_000);
  t.is(sessions[0]!.reason, 'client_disconnected');
  t.is(sessions[0]!.contentValue, CONTENT);
  t.true(sessions[0]!.bytesOut > 0);
  const claims = (await engines()).flatMap((e) => e.claims);
  t.deepEqual(claims, [], 'the engine was released');
});

test.serial('every service answers $SRV.PING with its name', async (t) => {
  const nc = await stack.nats.connect();
  try {
    const names = new Set<string>();
    const pings = await new Svcm(nc).client({ strategy: 'timer', maxWait: 1000 }).ping();
    for await (const p of pings) names.add(p.name);
    t.deepEqual([...names].sort(), Object.values(ServiceNames).sort());
  } finally {
    await nc.close();
  }
});

test.serial(
  '$SRV PING, INFO and STATS replies of every service validate against the nats CLI schemas',
  async (t) => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    formats.default(ajv);
    const schemaDir = path.join(repoRoot, '..', 'shared', 'schemas', 'micro-v1');
    const nc = await stack.nats.connect();
    try {
      for (const verb of ['PING', 'INFO', 'STATS'] as const) {
        const schema = JSON.parse(
          await readFile(path.join(schemaDir, `${verb.toLowerCase()}_response.json`), 'utf8'),
        );
        const validate = ajv.compile(schema);
        const replies = await nc.requestMany(`$SRV.${verb}`, '', { strategy: 'timer', maxWait: 1000 });
        const names: string[] = [];
        for await (const m of replies) {
          const body = m.json<{ name: string; metadata?: Record<string, string> }>();
          t.true(validate(body), `${verb} from ${body.name}: ${ajv.errorsText(validate.errors)}`);
          names.push(body.name);
          if (verb === 'INFO') t.regex(body.metadata?.http ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
        }
        t.is(names.length, 4, `${verb}: one reply per service`);
      }
    } finally {
      await nc.close();
    }
  },
);
