/** libhdhomerun's check-digit table (hdhomerun_discover_validate_device_id). */
const LOOKUP = [0xa, 0x5, 0xf, 0x6, 0x7, 0xc, 0x1, 0xb, 0x9, 0x2, 0x8, 0xd, 0x4, 0x3, 0xe, 0x0];

/** Whether an HDHomeRun DeviceID (8 hex digits) has a valid check digit, as clients that validate it expect. */
export function isValidDeviceId(id: string): boolean {
  if (!/^[0-9A-Fa-f]{8}$/.test(id)) return false;
  const d = [...id].map((c) => parseInt(c, 16));
  const sum =
    LOOKUP[d[0]!]! ^ d[1]! ^ LOOKUP[d[2]!]! ^ d[3]! ^ LOOKUP[d[4]!]! ^ d[5]! ^ LOOKUP[d[6]!]! ^ d[7]!;
  return sum === 0;
}

/**
 * A DeviceID from `seed` (a digest): its first seven hex digits, then the check digit that makes it valid.
 * The same seed always gives the same id, so a media server keeps recognising the tuner.
 */
export function hdhomerunDeviceId(seed: Buffer): string {
  const d = [...seed.toString('hex').slice(0, 7).toUpperCase()].map((c) => parseInt(c, 16));
  const check = LOOKUP[d[0]!]! ^ d[1]! ^ LOOKUP[d[2]!]! ^ d[3]! ^ LOOKUP[d[4]!]! ^ d[5]! ^ LOOKUP[d[6]!]!;
  return [...d, check].map((n) => n.toString(16).toUpperCase()).join('');
}
