import { open } from 'node:fs/promises';
import path from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { AcefleetError, redactCredentials } from '@acefleet/contracts';

const gunzipAsync = promisify(gunzip);

export interface SourceLimits {
  /** The whole read (connect, headers and body) must end within this. */
  timeoutMs: number;
  /** Bytes read at most, after decompression; a larger source is refused. */
  maxBytes: number;
  /** Sent with URL sources. */
  userAgent?: string;
}

/** Whether a source names a URL (else it is a file path). */
export function isUrlSource(source: string): boolean {
  return /^https?:\/\//i.test(source.trim());
}

/**
 * How a source is named where it is stored and shown: a URL without its credentials (userinfo, `token=`…),
 * a file by its absolute path. Re-reading the same source gives the same name, so a re-import updates it.
 */
export function sourceName(source: string): string {
  const s = source.trim();
  return isUrlSource(s) ? redactCredentials(s) : path.resolve(s);
}

function tooLarge(source: string, maxBytes: number): AcefleetError {
  return new AcefleetError('source_too_large', `${sourceName(source)} is larger than ${maxBytes} bytes`);
}

async function readUrl(url: string, limits: SourceLimits, signal: AbortSignal): Promise<Buffer> {
  const res = await fetch(url, {
    signal,
    redirect: 'follow',
    headers: { accept: '*/*', ...(limits.userAgent ? { 'user-agent': limits.userAgent } : {}) },
  });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new AcefleetError('source_unavailable', `${sourceName(url)} answered HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > limits.maxBytes) {
    await res.body.cancel();
    throw tooLarge(url, limits.maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.byteLength;
    if (size > limits.maxBytes) {
      await reader.cancel();
      throw tooLarge(url, limits.maxBytes);
    }
    chunks.push(Buffer.from(read.value));
  }
  return Buffer.concat(chunks);
}

async function readFile(file: string, limits: SourceLimits): Promise<Buffer> {
  const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new AcefleetError(
      'source_unavailable',
      `cannot read ${path.resolve(file)}: ${err.code ?? err.message}`,
    );
  });
  try {
    const { size } = await handle.stat();
    if (size > limits.maxBytes) throw tooLarge(file, limits.maxBytes);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Gzip (an `.xml.gz` guide, a compressed playlist) is unpacked, within the same byte limit. */
async function unpacked(source: string, data: Buffer, maxBytes: number): Promise<Buffer> {
  if (data[0] !== 0x1f || data[1] !== 0x8b) return data;
  try {
    return await gunzipAsync(data, { maxOutputLength: maxBytes });
  } catch (err) {
    if (err instanceof RangeError) throw tooLarge(source, maxBytes);
    throw new AcefleetError('source_unavailable', `${sourceName(source)}: broken gzip data`, { cause: err });
  }
}

/**
 * Read a playlist or guide source: a file, or an http(s) URL (followed through redirects), within a time and
 * size limit, gzip unpacked. Failures are catalogue errors naming the source without credentials:
 * `source_unavailable` (unreachable, HTTP error, no such file, timed out), `source_too_large`.
 */
export async function readSource(source: string, limits: SourceLimits): Promise<Buffer> {
  const s = source.trim();
  if (!isUrlSource(s)) return unpacked(s, await readFile(s, limits), limits.maxBytes);
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    return await unpacked(s, await readUrl(s, limits, signal), limits.maxBytes);
  } catch (err) {
    if (err instanceof AcefleetError) throw err;
    const why = signal.aborted
      ? `timed out after ${limits.timeoutMs} ms`
      : (((err as Error).cause as Error | undefined)?.message ?? (err as Error).message);
    throw new AcefleetError('source_unavailable', `${sourceName(s)}: ${why}`, { cause: err });
  }
}
