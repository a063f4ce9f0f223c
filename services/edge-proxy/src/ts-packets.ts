/** MPEG-TS framing: 188-byte packets, each starting with the sync byte 0x47. */
export const PACKET_SIZE = 188;
const SYNC = 0x47;

/** Is `offset` the start of a PAT packet (PID 0 with payload_unit_start), where a player can lock on? */
export function isPatAt(buf: Buffer, offset: number): boolean {
  return (
    buf[offset] === SYNC &&
    ((buf[offset + 1] ?? 0) & 0x40) !== 0 &&
    ((buf[offset + 1] ?? 0) & 0x1f) === 0 &&
    buf[offset + 2] === 0
  );
}

/** First offset where three packets in a row carry the sync byte, or -1: used to lock onto a new upstream. */
export function findSync(buf: Buffer): number {
  for (let i = 0; i + 2 * PACKET_SIZE < buf.length; i++) {
    if (buf[i] === SYNC && buf[i + PACKET_SIZE] === SYNC && buf[i + 2 * PACKET_SIZE] === SYNC) return i;
  }
  return -1;
}

/**
 * Turns an upstream's arbitrary chunks into whole packets. Until it has locked on (three sync bytes a packet
 * apart) it discards bytes; afterwards it carries the partial packet at the end of a chunk into the next.
 */
export class PacketAligner {
  private carry: Buffer | undefined;
  private locked = false;

  /** Whole packets from this chunk (possibly empty). */
  push(chunk: Buffer): Buffer {
    let buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    if (!this.locked) {
      const at = findSync(buf);
      if (at < 0) {
        this.carry = buf.length > 4 * PACKET_SIZE ? buf.subarray(buf.length - 3 * PACKET_SIZE) : buf;
        return Buffer.alloc(0);
      }
      this.locked = true;
      buf = buf.subarray(at);
    }
    const whole = buf.length - (buf.length % PACKET_SIZE);
    if (whole < buf.length) this.carry = Buffer.from(buf.subarray(whole));
    return buf.subarray(0, whole);
  }

  /** Forget the partial packet and lock again (a new upstream after failover). */
  reset(): void {
    this.carry = undefined;
    this.locked = false;
  }
}
