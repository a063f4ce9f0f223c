import test from 'ava';
import { createInbox } from '@nats-io/nats-core';
import { NatsUsers } from '@acefleet/contracts';
import { connectNats, createLogger, inboxPrefixFor } from '@acefleet/platform';
import { startNatsServer } from '@acefleet/testkit';

const log = createLogger('inbox-prefix-test', 'silent');

test('inbox prefix - is the one the connection was made with, so a service user can take replies there', async (t) => {
  const server = await startNatsServer();
  t.teardown(() => server.destroy());
  const proxy = await connectNats(server.url, 'inbox-test', log, server.credentials(NatsUsers.edgeProxy));
  const operator = await server.connect(NatsUsers.operator);
  t.teardown(async () => {
    await proxy.close();
    await operator.close();
  });
  t.is(inboxPrefixFor(proxy), '_INBOX_edge-proxy');
  t.is(inboxPrefixFor(operator), '_INBOX');

  // The edge-proxy user may subscribe to its own inbox only: a reply reaches it there.
  const inbox = createInbox(inboxPrefixFor(proxy));
  const got = new Promise<string>((resolve) =>
    proxy.subscribe(inbox, { max: 1, callback: (_err, msg) => resolve(msg.string()) }),
  );
  await proxy.flush();
  operator.publish(inbox, 'reply');
  t.is(await got, 'reply');
});

test('inbox prefix - an anonymous connection has the default prefix', async (t) => {
  const server = await startNatsServer({ auth: false });
  t.teardown(() => server.destroy());
  const nc = await connectNats(server.url, 'inbox-test', log);
  t.teardown(() => nc.close());
  t.is(inboxPrefixFor(nc), '_INBOX');
});
