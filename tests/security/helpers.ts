/** One HTTP call with an optional Bearer key and JSON body; never throws on a non-2xx answer. */
export async function call(
  url: string,
  opts: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key !== undefined) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: opts.method ?? 'GET',
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  // The body as JSON (untyped, as in any test of a reply), or undefined when it is not JSON.
  const json = await res
    .clone()
    .json()
    .catch(() => undefined);
  return { status: res.status, headers: res.headers, text: await res.text(), json };
}
