import test from 'ava';
import { AcefleetError, redactCredentials } from '@acefleet/contracts';

const cases: [string, string, string][] = [
  ['userinfo with a password', 'http://user:s3cret@gluetun:8000/v1/x', 'http://***@gluetun:8000/v1/x'],
  ['a user alone', 'nats://svc@127.0.0.1:4222', 'nats://***@127.0.0.1:4222'],
  [
    'a URL inside a sentence',
    'Request cannot be constructed from a URL that includes credentials: http://u:p%40ss@h:1/x.',
    'Request cannot be constructed from a URL that includes credentials: http://***@h:1/x.',
  ],
  ['every URL of a text', '"http://a:b@h1" and "https://c:d@h2"', '"http://***@h1" and "https://***@h2"'],
  [
    'secret query parameters, any case',
    'http://h/x?ApiKey=k1&id=abc&token=t2&PASSWORD=p3&access_token=t4',
    'http://h/x?ApiKey=***&id=abc&token=***&PASSWORD=***&access_token=***',
  ],
];
for (const [what, input, expected] of cases) {
  test(`redactCredentials - hides ${what}`, (t) => {
    t.is(redactCredentials(input), expected);
  });
}

test('redactCredentials - leaves text without credentials alone', (t) => {
  const plain = 'http://127.0.0.1:6878/ace/getstream?id=abc&pid=1 failed; mail ops@example.com';
  t.is(redactCredentials(plain), plain);
});

test('AcefleetError - its message never carries URL credentials', (t) => {
  const err = new AcefleetError('runtime_unavailable', 'VPN down: http://user:s3cret@gluetun:8000 refused');
  t.false(err.message.includes('s3cret'));
  t.false(JSON.stringify(err.toBody()).includes('s3cret'));
});
