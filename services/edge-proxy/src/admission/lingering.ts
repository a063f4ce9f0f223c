/**
 * Which client left each lingering stream, oldest first: the last MPEG-TS player of a stream was this client's,
 * and the stream now waits out LINGER_MS with no player, holding an engine. Two rules use it (see
 * admission.ts and app.ts): a client's lingering streams count toward its share, and when the fleet is full a
 * lingering stream gives its engine to a new channel at once, the oldest first.
 */
export class LingeringStreams {
  /** Stream key → the client that left it; Map order is the order they were left in. */
  private readonly left = new Map<string, string>();

  /** `client`'s last player of stream `key` left (the stream lingers, or ends: ended() says which). */
  leftBy(key: string, client: string): void {
    this.left.delete(key);
    this.left.set(key, client);
  }

  /** Someone plays `key` again, or it ended: it no longer lingers for anyone. */
  forget(key: string): void {
    this.left.delete(key);
  }

  /** Streams `client` left lingering, oldest first, among those `lingers` says still linger. */
  of(client: string, lingers: (key: string) => boolean): string[] {
    return [...this.left].filter(([key, who]) => who === client && lingers(key)).map(([key]) => key);
  }

  /** The stream that has lingered longest, among those `lingers` says still linger. */
  oldest(lingers: (key: string) => boolean): string | undefined {
    for (const key of this.left.keys()) if (lingers(key)) return key;
    return undefined;
  }
}
