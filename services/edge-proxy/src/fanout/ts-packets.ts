/** MPEG-TS framing: 188-byte packets, each starting with the sync byte 0x47. */
export const PACKET_SIZE = 188;
const SYNC = 0x47;
/**
 * Packets in a row that must carry the sync byte before a body counts as MPEG-TS. Five make a false lock on
 * noise (random bytes, another container's payload) about one in 2^40 per offset.
 */
const LOCK_PACKETS = 5;

/** Is `offset` the start of a PAT packet (PID 0 with payload_unit_start), where a player can lock on? */
export function isPatAt(buf: Buffer, offset: number): boolean {
  return (
    buf[offset] === SYNC &&
    ((buf[offset + 1] ?? 0) & 0x40) !== 0 &&
    ((buf[offset + 1] ?? 0) & 0x1f) === 0 &&
    buf[offset + 2] === 0
  );
}

/** First offset where LOCK_PACKETS packets in a row carry the sync byte, or -1. */
export function findSync(buf: Buffer): number {
  for (let i = 0; i + (LOCK_PACKETS - 1) * PACKET_SIZE < buf.length; i++) {
    let n = 0;
    while (n < LOCK_PACKETS && buf[i + n * PACKET_SIZE] === SYNC) n++;
    if (n === LOCK_PACKETS) return i;
  }
  return -1;
}

/**
 * Turns an upstream's arbitrary chunks into whole packets. Until it has locked on (LOCK_PACKETS sync bytes a
 * packet apart) it discards bytes; afterwards it carries the partial packet at the end of a chunk (at most
 * 187 bytes) into the next, completing it in a packet of its own, and hands on the rest of the chunk as views,
 * valid only until the caller's next read (the ring copies them at once): a locked stream costs no copy here.
 * A packet without its sync byte drops the lock: what follows is discarded until it locks again, so bytes that
 * are not MPEG-TS never reach a player.
 */
export class PacketAligner {
  private carry: Buffer | undefined;
  private locked = false;

  get isLocked(): boolean {
    return this.locked;
  }

  /** Whole packets from this chunk, as views in stream order (possibly none). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let buf = chunk;
    const carry = this.carry;
    this.carry = undefined;
    if (carry && this.locked) {
      const need = PACKET_SIZE - carry.length;
      if (chunk.length < need) {
        this.carry = Buffer.concat([carry, chunk]);
        return out;
      }
      const packet = Buffer.concat([carry, chunk.subarray(0, need)], PACKET_SIZE);
      buf = chunk.subarray(need);
      if (packet[0] === SYNC) out.push(packet);
      else {
        this.locked = false;
        buf = Buffer.concat([packet.subarray(1), buf]);
      }
    } else if (carry) buf = Buffer.concat([carry, chunk]);
    this.split(buf, out);
    return out;
  }

  /** Whole packets of `buf` into `out`; the partial tail (or the unlocked probe) becomes the carry. */
  private split(start: Buffer, out: Buffer[]): void {
    let buf = start;
    for (;;) {
      if (!this.locked) {
        const at = findSync(buf);
        if (at < 0) {
          const keep = LOCK_PACKETS * PACKET_SIZE;
          // Copied: the chunk is a view of a read buffer that the next read overwrites.
          this.carry = Buffer.from(buf.length > keep ? buf.subarray(buf.length - keep) : buf);
          return;
        }
        this.locked = true;
        buf = buf.subarray(at);
      }
      const whole = buf.length - (buf.length % PACKET_SIZE);
      const lost = firstUnsynced(buf, whole);
      if (lost < 0) {
        // A copy of the tail only: the chunk is a view of a read buffer that the next read overwrites.
        if (whole < buf.length) this.carry = Buffer.from(buf.subarray(whole));
        if (whole > 0) out.push(buf.subarray(0, whole));
        return;
      }
      if (lost > 0) out.push(buf.subarray(0, lost));
      this.locked = false;
      buf = buf.subarray(lost + 1);
    }
  }
}

/** Offset of the first packet in `buf[0, end)` without its sync byte, or -1. */
function firstUnsynced(buf: Buffer, end: number): number {
  for (let i = 0; i < end; i += PACKET_SIZE) if (buf[i] !== SYNC) return i;
  return -1;
}
