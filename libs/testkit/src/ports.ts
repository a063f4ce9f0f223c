import net from 'node:net';

/** A loopback TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

let nextRange = 0;

/**
 * A block of `size` ports for one test's engines, distinct from other tests of this process and unlikely
 * to meet another test process's block (blocks are spread by pid) or the kernel's ephemeral range.
 */
export function portBlock(size = 40): { start: number; end: number } {
  const blocks = Math.floor((32_000 - 20_000) / size);
  const index = (process.pid * 7 + nextRange++) % blocks;
  const start = 20_000 + index * size;
  return { start, end: start + size - 1 };
}
