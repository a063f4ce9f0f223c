export { openTokensKv, addToken, listTokens, revokeToken } from './tokens.ts';
export { TokenDirectory } from './token-directory.ts';
