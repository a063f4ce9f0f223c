import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { processAlive, type Logger } from '@acefleet/platform';

const InstanceState = Type.Object({ instanceId: Type.String({ minLength: 1 }), pid: Type.Integer() });

/**
 * Take over the instance file: read which proxy instance ran from it before, then write this one's id in
 * its place (atomically: a temporary file renamed over it). Returns the predecessor whose claims this proxy
 * should release, or undefined: no file, the same id (a configured INSTANCE_ID: its new claims would be
 * released too), or a process of that pid still running here (another proxy wrongly sharing the file).
 */
export function takeOverInstanceFile(file: string, instanceId: string, log: Logger): string | undefined {
  const before = readState(file, log);
  writeState(file, instanceId, log);
  if (!before || before.instanceId === instanceId) return undefined;
  if (before.pid !== process.pid && processAlive(before.pid)) {
    log.warn({ file, predecessor: before.instanceId }, 'instance file of a running process: claims kept');
    return undefined;
  }
  return before.instanceId;
}

function readState(file: string, log: Logger): { instanceId: string; pid: number } | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (Value.Check(InstanceState, parsed)) return parsed;
    log.warn({ file }, 'instance file malformed: predecessor unknown');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err, file }, 'instance file unreadable');
  }
  return undefined;
}

function writeState(file: string, instanceId: string, log: Logger): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(tmp, JSON.stringify({ instanceId, pid: process.pid }));
    renameSync(tmp, file);
  } catch (err) {
    log.warn({ err, file }, 'instance file not written: a restart will not release these claims early');
  }
}
