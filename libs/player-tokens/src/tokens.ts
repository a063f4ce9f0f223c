import { createHash, randomBytes } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  AcefleetError,
  DEFAULT_TOKEN_MAX_STREAMS,
  PlayerTokenRecord,
  TOKENS_BUCKET,
  DEFAULT_KV_MAX_BYTES,
  parseMessage,
  type AddTokenReply,
  type AddTokenRequest,
  type TokenInfo,
} from '@acefleet/contracts';

/** Tokens acefleet makes: a prefix that tells them apart in a config file, then 256 random bits. */
const TOKEN_PREFIX = 'aft_';
/** What a presented token may look like: the base64url alphabet, within these lengths. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+$/;
export const MAX_TOKEN_LENGTH = 128;
const MIN_TOKEN_LENGTH = 16;
const NAME_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Open (creating if needed) the player tokens bucket. */
export function openTokensKv(nc: NatsConnection, replicas = 1): Promise<KV> {
  return new Kvm(nc).create(TOKENS_BUCKET, { history: 1, replicas, max_bytes: DEFAULT_KV_MAX_BYTES });
}

/** The hex SHA-256 of a token: all that is stored. Tokens are random, so no salt or slow hash is needed. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A token name, checked: the message says what a name may hold (it is also the token's KV key). */
export function checkTokenName(name: string): string {
  if (!NAME_SHAPE.test(name)) {
    throw new AcefleetError(
      'bad_request',
      `token name "${name.slice(0, 80)}" is not allowed: 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return name;
}

/**
 * A token as a player presented it, checked for shape before it is looked up: too long, too short or with
 * characters no token has is `invalid_token`. The message never repeats the token.
 */
export function checkPresentedToken(token: string): string {
  if (token.length > MAX_TOKEN_LENGTH)
    throw new AcefleetError('invalid_token', `the token is longer than ${MAX_TOKEN_LENGTH} characters`);
  if (token.length < MIN_TOKEN_LENGTH)
    throw new AcefleetError('invalid_token', `the token is shorter than ${MIN_TOKEN_LENGTH} characters`);
  if (!TOKEN_SHAPE.test(token))
    throw new AcefleetError(
      'invalid_token',
      'the token has characters other than A-Z, a-z, 0-9, "_" and "-"',
    );
  return token;
}

function infoOf(record: PlayerTokenRecord): TokenInfo {
  return { name: record.name, maxStreams: record.maxStreams, createdAt: record.createdAt };
}

/** Make a token named `name`: only its digest is stored; the reply is the one place the token appears. */
export async function addToken(kv: KV, req: AddTokenRequest): Promise<AddTokenReply> {
  const name = checkTokenName(req.name);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const record: PlayerTokenRecord = {
    name,
    sha256: tokenDigest(token),
    maxStreams: req.maxStreams ?? DEFAULT_TOKEN_MAX_STREAMS,
    createdAt: new Date().toISOString(),
  };
  try {
    await kv.create(name, new TextEncoder().encode(JSON.stringify(record)));
  } catch (err) {
    if (/wrong last sequence|key exists/i.test(String((err as Error).message))) {
      throw new AcefleetError(
        'token_exists',
        `a token named ${name} exists: revoke it first, or pick another name`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
  return { name, token, maxStreams: record.maxStreams };
}

/** Every token by name: names and limits, never a token or its digest. */
export async function listTokens(kv: KV): Promise<TokenInfo[]> {
  const names: string[] = [];
  for await (const key of await kv.keys()) names.push(key);
  const entries = await Promise.all(names.map((n) => kv.get(n)));
  const tokens: TokenInfo[] = [];
  for (const entry of entries) {
    if (entry?.operation !== 'PUT') continue;
    try {
      tokens.push(infoOf(parseMessage(PlayerTokenRecord, entry.json(), 'player token')));
    } catch {
      // A malformed record verifies nothing (the proxies' mirrors skip it too): not listed.
    }
  }
  return tokens.sort((a, b) => a.name.localeCompare(b.name));
}

/** Revoke a token: every proxy refuses it within a second (their mirrors follow the bucket). */
export async function revokeToken(kv: KV, name: string): Promise<TokenInfo> {
  checkTokenName(name);
  const entry = await kv.get(name);
  if (entry?.operation !== 'PUT') throw new AcefleetError('token_not_found', `no token named ${name}`);
  await kv.delete(name);
  return infoOf(parseMessage(PlayerTokenRecord, entry.json(), 'player token'));
}
