/**
 * Late joiners for the fan-out benchmark, from a process of their own (the load client is too busy to time
 * them fairly): opens `count` connections one after another, 50 ms apart, and prints each one's time to
 * first byte in milliseconds as a JSON array.
 *
 *   node --import tsx bench/late-joiner.ts <url> <count>
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const [url = '', countArg = '30'] = process.argv.slice(2);

function firstByte(): Promise<number> {
  return new Promise((resolve) => {
    const opened = performance.now();
    const req = http.get(url, { agent: false }, (res) => {
      res.once('data', () => {
        resolve(performance.now() - opened);
        req.destroy();
      });
    });
    req.setTimeout(5000, () => {
      resolve(-1);
      req.destroy();
    });
    req.on('error', () => resolve(-1));
  });
}

const times: number[] = [];
for (let i = 0; i < Number(countArg); i++) {
  times.push(await firstByte());
  await sleep(50);
}
process.stdout.write(`${JSON.stringify(times)}\n`);
