import { setTimeout as sleep } from 'node:timers/promises';
import {
  AcefleetError,
  type EngineRecord,
  type EngineReplacement,
  type ErrorCode,
  type UpgradeReply,
} from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';
import type { Drainer } from './drainer.ts';
import type { Provisioner } from './provisioner.ts';
import type { EngineRegistry } from './registry.ts';
import { PINNED_IMAGE } from '../runtime/presets.ts';
import type { EngineRuntime } from '../runtime/runtime.ts';

export interface UpgraderOptions {
  hostId: string;
  drainTimeoutMs: number;
  /** How long past its drain deadline a replaced engine may take to be removed (the drainer's next pass). */
  removalGraceMs: number;
}

const pinned = new RegExp(PINNED_IMAGE);

/** An upgrade waits this long at most, in all, for the provisioning rate limit to allow a successor. */
const RATE_LIMIT_WAIT_MS = 5 * 60_000;

/** Refuses (400) an image that is not pinned: a moving tag would change engines under a running fleet. */
export function assertPinnedImage(image: string): void {
  if (pinned.test(image)) return;
  throw new AcefleetError(
    'bad_request',
    `image "${image}" is not pinned: name a tag other than latest (e.g. acefleet/ace-sim:1.2) or a digest ` +
      '(name@sha256:<64 hex>), so that every engine runs an image someone chose',
  );
}

/**
 * Rolling upgrade of this host's engines: one at a time, make-before-break. For each engine (the least
 * loaded first): a successor from the target image, started and ready; then the old engine drained (reason
 * `upgrade`: proxies move its streams) and awaited until removed. A given image becomes the image of every
 * new engine; engines already made from it are skipped, so a re-run continues where one stopped. It stops at
 * the first failure, the fleet still serving: the failed successor is removed, and when no engine was
 * replaced yet the image in force is switched back (none of the old engines was touched).
 */
export class EngineUpgrader {
  /** One upgrade of this host at a time. */
  private running = false;

  constructor(
    private readonly registry: EngineRegistry,
    private readonly runtime: EngineRuntime,
    private readonly provisioner: Provisioner,
    private readonly drainer: Drainer,
    private readonly opts: UpgraderOptions,
    private readonly log: Logger,
  ) {}

  /** Upgrade to `image` (absent: the image in force, every engine replaced: a rolling restart). */
  async upgrade(image: string | undefined): Promise<UpgradeReply> {
    if (image !== undefined) this.assertCanUse(image);
    if (this.running) {
      throw new AcefleetError('upgrade_in_progress', `an upgrade of host ${this.opts.hostId} is running`);
    }
    this.running = true;
    try {
      return await this.upgradeAll(image);
    } finally {
      this.running = false;
    }
  }

  private assertCanUse(image: string): void {
    assertPinnedImage(image);
    if (!this.runtime.useImage) {
      throw new AcefleetError(
        'bad_request',
        `the ${this.runtime.kind} runtime runs no image: upgrade without one replaces every engine`,
      );
    }
  }

  private async upgradeAll(image: string | undefined): Promise<UpgradeReply> {
    const started = Date.now();
    const previous = this.runtime.image;
    const target = image ?? previous;
    const engines = this.provisioner
      .ours()
      .map((e) => e.record)
      .filter((r) => r.state !== 'draining')
      .sort((a, b) => a.claims.length - b.claims.length);
    const skipped = image === undefined ? [] : engines.filter((r) => r.image === image).map((r) => r.id);
    const switching = image !== undefined && previous !== undefined && image !== previous;
    // The engines still to replace stay current (not foreign-config) meanwhile.
    if (switching) this.runtime.useImage?.(image, [previous]);
    this.log.info({ image: target, engines: engines.length, skipped: skipped.length }, 'upgrade started');
    const replaced: EngineReplacement[] = [];
    const reply = (error?: AcefleetError): UpgradeReply => ({
      ...(target === undefined ? {} : { image: target }),
      hosts: [this.opts.hostId],
      replaced,
      skipped,
      tookMs: Date.now() - started,
      ...(error ? { error: { code: error.code, message: error.message } } : {}),
    });
    for (const old of engines) {
      if (skipped.includes(old.id)) continue;
      try {
        replaced.push(await this.replace(old, target));
      } catch (err) {
        const error = asUpgradeError(err, target, old.id, replaced.length === 0);
        // Nothing replaced: back to the image in force, every old engine as it was.
        if (switching && replaced.length === 0) this.runtime.useImage?.(previous, []);
        this.log.error({ err: error, engineId: old.id, image: target }, 'upgrade stopped');
        return reply(error);
      }
    }
    if (switching) this.runtime.useImage?.(image, []);
    this.log.info({ image: target, replaced: replaced.length, tookMs: Date.now() - started }, 'upgrade done');
    return reply();
  }

  /** Replace one engine: its successor ready first, then the old one drained and gone. */
  private async replace(old: EngineRecord, image: string | undefined): Promise<EngineReplacement> {
    const started = Date.now();
    const successor = await this.successorWhenAllowed();
    await this.readyOrRemoved(successor);
    await this.drainer.drain(old.id, 'upgrade').catch((err: unknown) => {
      // Gone meanwhile (removed by another path): its successor stands all the same.
      if (!(err instanceof AcefleetError && err.code === 'not_found')) throw err;
    });
    await this.removed(old.id);
    const tookMs = Date.now() - started;
    this.log.info({ from: old.id, to: successor, image, tookMs }, 'engine replaced');
    return { hostId: this.opts.hostId, from: old.id, to: successor, ...(image ? { image } : {}), tookMs };
  }

  /**
   * A successor, once the provisioning rate limit allows one: a limit is a wait, not a failure (a chaos run
   * stopped an upgrade at its first engine on it). Waits at most RATE_LIMIT_WAIT_MS in all.
   */
  private async successorWhenAllowed(): Promise<string> {
    const until = Date.now() + RATE_LIMIT_WAIT_MS;
    for (;;) {
      try {
        return await this.provisioner.provisionSuccessor();
      } catch (err) {
        const limited = err instanceof AcefleetError && /rate limit/.test(err.message);
        const waitMs = limited ? Math.min(err.retryAfterMs ?? 1000, 10_000) : 0;
        if (!limited || Date.now() + waitMs > until) throw err;
        this.log.info({ waitMs }, 'upgrade waits for the provisioning rate limit');
        await sleep(waitMs);
      }
    }
  }

  /** Wait until the successor is ready; one that fails or answers unhealthy is removed, never left behind. */
  private async readyOrRemoved(engineId: string): Promise<void> {
    try {
      const record = await this.provisioner.awaitReady(engineId);
      if (record.state !== 'ready') {
        throw new AcefleetError('engine_error', `the new engine is ${record.state}`, {
          retryAfterMs: 5000,
        });
      }
    } catch (err) {
      const left = this.registry.table.get(engineId)?.record;
      if (left) await this.provisioner.remove({ engineId, containerId: left.containerId }, 'upgrade failed');
      throw err;
    }
  }

  /** Wait until a drained engine is removed: empty, or at its drain deadline. */
  private async removed(engineId: string): Promise<void> {
    const until = Date.now() + this.opts.drainTimeoutMs + this.opts.removalGraceMs;
    while (this.registry.table.get(engineId)) {
      if (Date.now() > until) {
        throw new AcefleetError('engine_timeout', `engine ${engineId} was drained but not removed in time`, {
          retryAfterMs: 5000,
        });
      }
      await sleep(100);
    }
  }
}

/** The failure as the reply names it: the image, and whether the old engines were left untouched. */
function asUpgradeError(
  err: unknown,
  image: string | undefined,
  engineId: string,
  first: boolean,
): AcefleetError {
  const code: ErrorCode = err instanceof AcefleetError ? err.code : 'internal';
  const cause = err instanceof Error ? err.message : String(err);
  const what = image ? `upgrade to image ${image}` : 'rolling restart';
  const where = first ? 'at the first engine: no engine was replaced' : `at engine ${engineId}`;
  return new AcefleetError(code, `${what} stopped ${where}: ${cause}`, { cause: err });
}
