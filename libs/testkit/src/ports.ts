import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { processAlive } from '@acefleet/platform';

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

/**
 * Engine port blocks are cut from 20000-31999 in slots of 40 HTTP ports (20 engines), each slot with 20 P2P
 * ports in 10000-15999: all below the kernel's ephemeral range (32768 and up), where an outgoing connection
 * may hold any port at any moment and a published P2P port then fails to bind.
 */
const FIRST_PORT = 20_000;
const SLOT_SIZE = 40;
const SLOTS = (32_000 - FIRST_PORT) / SLOT_SIZE;
const FIRST_P2P_PORT = 10_000;
const P2P_PER_SLOT = SLOT_SIZE / 2;

/** Where test processes of this machine say which slots they hold: a file `<slot>.<pid>` per holder. */
const slotDir = path.join(tmpdir(), 'acefleet-port-slots');
const heldSlots = new Set<number>();

function slotFile(slot: number, pid = process.pid): string {
  return path.join(slotDir, `${slot}.${pid}`);
}

function releaseSlot(slot: number): void {
  if (!heldSlots.delete(slot)) return;
  rmSync(slotFile(slot), { force: true });
}

/**
 * Take a slot unless a live process holds it. Each taker writes its own file first and then looks for
 * another's: of two processes racing for a slot, the one that looks second sees the first and backs off
 * (both may back off, never neither). Files of processes that died are cleared on the way.
 */
function takeSlot(slot: number): boolean {
  if (heldSlots.has(slot)) return false;
  mkdirSync(slotDir, { recursive: true });
  writeFileSync(slotFile(slot), '');
  const others = readdirSync(slotDir)
    .filter((name) => name.startsWith(`${slot}.`))
    .map((name) => Number(name.slice(name.indexOf('.') + 1)))
    .filter((pid) => pid !== process.pid);
  let taken = false;
  for (const pid of others) {
    if (processAlive(pid)) taken = true;
    else rmSync(slotFile(slot, pid), { force: true });
  }
  if (taken) {
    rmSync(slotFile(slot), { force: true });
    return false;
  }
  heldSlots.add(slot);
  return true;
}

process.once('exit', () => {
  for (const slot of [...heldSlots]) releaseSlot(slot);
});

/** A block of engine ports that no other test of this machine holds until `release()` (or this process ends). */
export interface PortBlock {
  start: number;
  end: number;
  /** The first of the block's P2P ports (one per two HTTP ports: P2P_PORT_RANGE_START). */
  p2pStart: number;
  release(): void;
}

/**
 * A block of `size` ports for one test's engines, held by this process alone among the test processes of this
 * machine (slot files in the temporary directory), so that two tests never start engines on the same port.
 * The search starts at a place of this process's own, so that concurrent processes rarely meet.
 */
export function portBlock(size = SLOT_SIZE): PortBlock {
  const count = Math.ceil(size / SLOT_SIZE);
  const from = (process.pid * 7) % SLOTS;
  for (let i = 0; i < SLOTS; i++) {
    const first = (from + i) % SLOTS;
    if (first + count > SLOTS) continue;
    const taken: number[] = [];
    for (let slot = first; slot < first + count && takeSlot(slot); slot++) taken.push(slot);
    if (taken.length === count) {
      const start = FIRST_PORT + first * SLOT_SIZE;
      const p2pStart = FIRST_P2P_PORT + first * P2P_PER_SLOT;
      return { start, end: start + size - 1, p2pStart, release: () => taken.forEach(releaseSlot) };
    }
    taken.forEach(releaseSlot);
  }
  throw new Error(`no free block of ${size} engine ports: every slot in ${slotDir} is held`);
}
