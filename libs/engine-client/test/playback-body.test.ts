import test from 'ava';
import http from 'node:http';
import net from 'node:net';
import { buildSimulator } from '@acefleet/ace-sim';
import { AcefleetError, type ContentRef } from '@acefleet/contracts';
import { freePort, waitFor } from '@acefleet/testkit';
import { openPlaybackBody, startSession, stopSession, type PlaybackHandlers } from '../src/index.ts';

/** What a body told its holder, in order. */
interface Heard {
  bytes: number;
  chunks: Buffer[];
  ends: number;
  errors: AcefleetError[];
}

function listener(): { heard: Heard; handlers: PlaybackHandlers } {
  const heard: Heard = { bytes: 0, chunks: [], ends: 0, errors: [] };
  const handlers: PlaybackHandlers = {
    data: (b) => {
      heard.bytes += b.length;
      heard.chunks.push(Buffer.from(b));
    },
    end: () => heard.ends++,
    error: (e) => heard.errors.push(e),
  };
  return { heard, handlers };
}

/** A raw TCP server on loopback that runs `onSocket` for each connection once its request head is in. */
async function rawServer(
  t: { teardown(fn: () => void): void },
  onSocket: (s: net.Socket) => void,
): Promise<string> {
  const server = net.createServer((socket) => {
    let head = '';
    socket.on('data', (d) => {
      if (head.includes('\r\n\r\n')) return;
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) onSocket(socket);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => void server.close());
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/content/x?a=1`;
}

test('playback body - an engine session plays MPEG-TS, and destroy stops it for good', async (t) => {
  const sim = buildSimulator({ burstSeconds: 1 });
  const { url } = await sim.listen();
  t.teardown(() => sim.close());
  const content: ContentRef = { kind: 'id', value: 'a'.repeat(40) };
  const session = await startSession(url, content, { timeoutMs: 5000 });
  const { heard, handlers } = listener();
  const body = await openPlaybackBody(session.playbackUrl, 5000, handlers);
  await waitFor(() => heard.bytes > 200_000, 10_000);
  const media = Buffer.concat(heard.chunks);
  t.is(media[0], 0x47, 'starts at a TS sync byte');
  t.is(media[188], 0x47);
  body.destroy();
  const after = heard.bytes;
  // A second body on the same engine shows that time passed with media flowing.
  const other = listener();
  const second = await openPlaybackBody(session.playbackUrl, 5000, other.handlers);
  await waitFor(() => other.heard.bytes > 200_000, 10_000);
  second.destroy();
  t.is(heard.bytes, after, 'no bytes after destroy');
  t.deepEqual([heard.ends, heard.errors.length], [0, 0], 'destroy tells nobody anything');
  await stopSession(session, 5000);
});

test('playback body - a status other than 200 is refused with engine_error', async (t) => {
  const server = http.createServer((_req, res) => res.writeHead(404).end('nope'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => void server.close());
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/x`;
  const err = await t.throwsAsync(openPlaybackBody(url, 5000, listener().handlers), {
    instanceOf: AcefleetError,
  });
  t.is(err?.code, 'engine_error');
  t.regex(err?.message ?? '', /HTTP 404/);
});

test('playback body - no head in time is engine_timeout; a refused connection is engine_error', async (t) => {
  const silent = await rawServer(t, () => {});
  const started = Date.now();
  const slow = await t.throwsAsync(openPlaybackBody(silent, 300, listener().handlers), {
    instanceOf: AcefleetError,
  });
  t.is(slow?.code, 'engine_timeout');
  t.true(Date.now() - started < 5000);
  const closed = `http://127.0.0.1:${await freePort()}/x`;
  const refused = await t.throwsAsync(openPlaybackBody(closed, 5000, listener().handlers), {
    instanceOf: AcefleetError,
  });
  t.is(refused?.code, 'engine_error');
});

test('playback body - head, body and end in one read reach the holder after it has the body, then end once', async (t) => {
  const url = await rawServer(t, (s) =>
    s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'),
  );
  let holding = false;
  const heard: string[] = [];
  const body = await openPlaybackBody(url, 5000, {
    data: (b) => heard.push(`${holding ? '' : 'EARLY '}${b.toString()}`),
    end: () => heard.push(`${holding ? '' : 'EARLY '}end`),
    error: (e) => heard.push(`error ${e.message}`),
  });
  holding = true;
  await waitFor(() => heard.includes('end'), 5000);
  t.deepEqual(heard, ['hello', ' world', 'end']);
  body.destroy();
});

test('playback body - a body cut mid-chunk is an error; a body without framing ends with its connection', async (t) => {
  const cut = await rawServer(t, (s) => {
    s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc');
    setImmediate(() => s.destroy());
  });
  const a = listener();
  await openPlaybackBody(cut, 5000, a.handlers);
  await waitFor(() => a.heard.errors.length > 0, 5000);
  t.is(a.heard.errors[0]!.code, 'engine_error');
  t.is(a.heard.ends, 0);
  const unframed = await rawServer(t, (s) => s.end('HTTP/1.0 200 OK\r\n\r\nall of it'));
  const b = listener();
  await openPlaybackBody(unframed, 5000, b.handlers);
  await waitFor(() => b.heard.ends > 0, 5000);
  t.is(Buffer.concat(b.heard.chunks).toString(), 'all of it');
  t.deepEqual([b.heard.ends, b.heard.errors.length], [1, 0]);
});

test('playback body - a malformed response is refused, never a crash', async (t) => {
  const url = await rawServer(t, (s) => s.end('SPAM 200 OK\r\n\r\n'));
  const err = await t.throwsAsync(openPlaybackBody(url, 5000, listener().handlers), {
    instanceOf: AcefleetError,
  });
  t.is(err?.code, 'engine_error');
  t.regex(err?.message ?? '', /malformed/);
});
