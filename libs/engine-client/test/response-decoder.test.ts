import test from 'ava';
import { AcefleetError } from '@acefleet/contracts';
import { MAX_HEAD_BYTES, ResponseDecoder, type ResponseHead } from '../src/response-decoder.ts';

interface Decoded {
  heads: ResponseHead[];
  body: Buffer[];
  completions: number;
}

function decoder(): { d: ResponseDecoder; out: Decoded } {
  const out: Decoded = { heads: [], body: [], completions: 0 };
  const d = new ResponseDecoder({
    head: (h) => out.heads.push(h),
    body: (b) => out.body.push(Buffer.from(b)),
    complete: () => out.completions++,
  });
  return { d, out };
}

const payload = Buffer.from(Array.from({ length: 700 }, (_, i) => i % 251));
const chunked = Buffer.concat([
  Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\nTransfer-Encoding: chunked\r\n\r\n'),
  Buffer.from('12c;ext=1\r\n'),
  payload.subarray(0, 300),
  Buffer.from('\r\n190\r\n'),
  payload.subarray(300),
  Buffer.from('\r\n0\r\nX-Trailer: 1\r\n\r\n'),
]);

test('decoder - a chunked response split at every byte gives the same body and completes once', (t) => {
  for (let cut = 1; cut < chunked.length; cut++) {
    const { d, out } = decoder();
    d.push(chunked.subarray(0, cut));
    d.push(chunked.subarray(cut));
    t.is(out.heads.length, 1, `cut at ${cut}`);
    t.is(out.heads[0]!.status, 200);
    t.is(out.heads[0]!.headers.get('content-type'), 'video/mp2t');
    t.deepEqual(Buffer.concat(out.body), payload, `cut at ${cut}`);
    t.is(out.completions, 1, `cut at ${cut}`);
  }
});

test('decoder - a response fed one byte at a time is decoded whole', (t) => {
  const { d, out } = decoder();
  for (let i = 0; i < chunked.length; i++) d.push(chunked.subarray(i, i + 1));
  t.deepEqual(Buffer.concat(out.body), payload);
  t.is(out.completions, 1);
});

test('decoder - body bytes are views of what was pushed, not copies', (t) => {
  const seen: Buffer[] = [];
  const d = new ResponseDecoder({ head: () => {}, body: (b) => seen.push(b), complete: () => {} });
  const read = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
  d.push(read);
  t.is(seen.length, 1);
  t.is(seen[0]!.buffer, read.buffer, 'the same memory as the read');
  t.is(seen[0]!.toString(), 'hello');
});

test('decoder - a Content-Length body completes at its length and ignores what follows', (t) => {
  const { d, out } = decoder();
  d.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcdEXTRA'));
  t.is(Buffer.concat(out.body).toString(), 'abcd');
  t.is(out.completions, 1);
  t.is(d.close(), 'complete', 'a closed connection after the body changes nothing');
  t.is(out.completions, 1);
});

test('decoder - a body without framing ends when the connection closes', (t) => {
  const { d, out } = decoder();
  d.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\nsome bytes'));
  t.is(out.completions, 0);
  t.is(d.close(), 'complete');
  t.is(out.completions, 1);
  t.is(Buffer.concat(out.body).toString(), 'some bytes');
});

test('decoder - a chunked or Content-Length body cut short by the connection is truncated', (t) => {
  const a = decoder();
  a.d.push(chunked.subarray(0, chunked.length - 20));
  t.is(a.d.close(), 'truncated');
  t.is(a.out.completions, 0);
  const b = decoder();
  b.d.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  t.is(b.d.close(), 'truncated');
  const c = decoder();
  c.d.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-'));
  t.is(c.d.close(), 'truncated', 'no head yet');
});

test('decoder - responses it cannot frame are engine_error, never a hang or a crash', (t) => {
  const bad = [
    'HTTP/2 200\r\n\r\n',
    'ICY 200 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n',
    `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`,
    `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'1'.repeat(2000)}`,
  ];
  for (const text of bad) {
    const { d } = decoder();
    const err = t.throws(() => d.push(Buffer.from(text)), { instanceOf: AcefleetError }, text.slice(0, 60));
    t.is(err?.code, 'engine_error');
  }
});
