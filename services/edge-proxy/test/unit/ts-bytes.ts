// Hand-made MPEG-TS packets for the pure tests of the proxy's framing.
import { PACKET_SIZE } from '../../src/fanout/ts-packets.ts';

/** One 188-byte packet: a PAT (PID 0, payload start) or a plain packet of PID 0x100, filled with `fill` (never 0x47, so only headers look like sync bytes). */
export function packet(kind: 'pat' | 'data', fill = 0xff): Buffer {
  const p = Buffer.alloc(PACKET_SIZE, fill);
  p[0] = 0x47;
  p[1] = kind === 'pat' ? 0x40 : 0x01;
  p[2] = 0x00;
  return p;
}

/** `n` packets in a row; a PAT wherever `patAt` includes the packet's index. */
export function packets(n: number, patAt: number[] = []): Buffer {
  return Buffer.concat(
    Array.from({ length: n }, (_, i) => packet(patAt.includes(i) ? 'pat' : 'data', i % 0x40)),
  );
}
