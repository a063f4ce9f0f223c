import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { portBlock } from '@acefleet/testkit';

const slotDir = path.join(tmpdir(), 'acefleet-port-slots');
/** The slot this process's search starts at, as portBlock places it. */
const firstSlot = (process.pid * 7) % 300;
const portOfSlot = (slot: number): number => 20_000 + slot * 40;

test.serial(
  'portBlock - a slot a live process holds is skipped; a dead holder is cleared and its slot taken',
  async (t) => {
    mkdirSync(slotDir, { recursive: true });
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    t.teardown(() => holder.kill());
    const held = path.join(slotDir, `${firstSlot}.${holder.pid}`);
    writeFileSync(held, '');
    const block = portBlock();
    t.not(block.start, portOfSlot(firstSlot), 'the held slot was skipped');
    t.true(existsSync(held), "a live holder's file stays");
    block.release();

    holder.kill();
    await new Promise((resolve) => holder.once('exit', resolve));
    const again = portBlock();
    t.false(existsSync(held), "a dead holder's file was cleared");
    const ours = path.join(slotDir, `${firstSlot}.${process.pid}`);
    // Another test process running beside may have taken the slot meanwhile: then its own file is there.
    const others = readdirSync(slotDir).filter(
      (f) => f.startsWith(`${firstSlot}.`) && f !== path.basename(ours),
    );
    if (others.length === 0) {
      t.is(again.start, portOfSlot(firstSlot), 'and its slot taken');
      t.true(existsSync(ours));
    } else {
      t.not(again.start, portOfSlot(firstSlot), 'a slot another live process took meanwhile is left to it');
    }
    again.release();
    t.false(existsSync(ours), 'release removes our file');
  },
);

test.serial('portBlock - blocks held at once never overlap, and a large block spans whole slots', (t) => {
  const blocks = [portBlock(), portBlock(80), portBlock(4), portBlock()];
  t.teardown(() => blocks.forEach((b) => b.release()));
  const sorted = [...blocks].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) t.true(sorted[i]!.start > sorted[i - 1]!.end);
  t.is(blocks[1]!.end - blocks[1]!.start, 79);
  t.true(blocks.every((b) => b.start >= 20_000 && b.end < 32_000 && (b.start - 20_000) % 40 === 0));
});
