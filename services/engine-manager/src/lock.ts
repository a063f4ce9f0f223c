/** An async mutex: decisions that must not interleave (count, then create) run one at a time. */
export class Lock {
  private tail = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** One Lock per key, dropped once nobody holds or waits for it: decisions about one key run one at a time. */
export class KeyedLock {
  private readonly locks = new Map<string, { lock: Lock; users: number }>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const entry = this.locks.get(key) ?? { lock: new Lock(), users: 0 };
    this.locks.set(key, entry);
    entry.users++;
    try {
      return await entry.lock.run(fn);
    } finally {
      if (--entry.users === 0) this.locks.delete(key);
    }
  }
}
