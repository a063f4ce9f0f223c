export {
  addToken,
  checkPresentedToken,
  checkTokenName,
  listTokens,
  MAX_TOKEN_LENGTH,
  openTokensKv,
  revokeToken,
  tokenDigest,
} from './tokens.ts';
export { TokenDirectory } from './token-directory.ts';
