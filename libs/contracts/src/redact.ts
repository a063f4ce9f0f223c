/** `scheme://user:password@` — the userinfo part of any URL in a text. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;
/** `?apikey=…`, `&token=…`, `&password=…` and their spellings: query parameters that carry a secret. */
const SECRET_PARAM =
  /([?&](?:api[_-]?key|apikey|key|token|access[_-]?token|auth|password|passwd|pwd|secret)=)[^&#\s"'<>]*/gi;

/**
 * The text with every credential a URL in it may carry replaced by `***`: the userinfo
 * (`http://***@gluetun:8000`) and secret-looking query parameters. Messages that may quote a configured
 * address pass through this before they reach a log line, an error body or a status reply.
 */
export function redactCredentials(text: string): string {
  return text.replace(URL_USERINFO, '$1***@').replace(SECRET_PARAM, '$1***');
}
