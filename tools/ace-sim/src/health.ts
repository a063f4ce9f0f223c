// Health and identity: /webui/api/service and /server/api, in the `{result, error}` envelope.
import type { ServerResponse } from 'node:http';
import type { SimContext } from './context.ts';
import { sendResult } from './http.ts';

export const ENGINE_VERSION = Object.freeze({ code: 3017000, platform: 'linux', version: '3.1.70' });

export function handleHealth(ctx: SimContext, res: ServerResponse, method: string | null): void {
  const faults = ctx.faults.resolve();
  // A wedged engine: the port accepts, the answer never comes (close() drops the socket).
  if (faults.hangHealth) return;
  switch (method) {
    case 'get_version':
      return sendResult(res, ENGINE_VERSION);
    case 'get_status':
      return sendResult(res, { playlist_loaded: true, version: ENGINE_VERSION });
    case 'get_network_connection_status':
      return sendResult(res, { connected: !faults.networkDisconnected });
    default:
      return sendResult(res, null, `unknown method: ${method ?? ''}`);
  }
}
