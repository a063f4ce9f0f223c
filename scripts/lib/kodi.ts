/**
 * Kodi (Debian's `kodi`, with `kodi-pvr-iptvsimple`) under Xvfb, configured by file, driven over its JSON-RPC
 * TCP interface: for `npm run players:kodi`, the one real media centre of docs/players.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { freePort, waitFor } from '@acefleet/testkit';

export interface KodiOptions {
  /** A fresh directory: Kodi's home (its `.kodi`) and the X server's files. */
  dir: string;
  playlistUrl: string;
  guideUrl: string;
}

export interface Kodi {
  display: string;
  logFile: string;
  rpc<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** A PNG of the whole screen (ffmpeg's x11grab). */
  screenshot(file: string): Promise<void>;
  stop(): Promise<void>;
}

const WIDTH = 1280;
const HEIGHT = 720;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return exited.finally(() => clearTimeout(force));
}

/** Xvfb on a display it picks itself (-displayfd), so two runs never collide. */
async function startXvfb(): Promise<{ display: string; child: ChildProcess }> {
  const child = spawn(
    'Xvfb',
    ['-displayfd', '3', '-screen', '0', `${WIDTH}x${HEIGHT}x24`, '-nolisten', 'tcp'],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    },
  );
  const fd = child.stdio[3] as NodeJS.ReadableStream;
  let text = '';
  fd.setEncoding('utf8');
  fd.on('data', (c: string) => (text += c));
  const number = await waitFor(() => /^\d+\n/.test(text) && text.trim(), 15_000);
  return { display: `:${number}`, child };
}

/** The add-on's settings (settings.xml, version 2: one value per setting id), and Kodi's own. */
async function writeSettings(home: string, opts: KodiOptions, rpcPort: number): Promise<void> {
  const userdata = path.join(home, '.kodi', 'userdata');
  await mkdir(path.join(userdata, 'addon_data', 'pvr.iptvsimple'), { recursive: true });
  const settings = {
    m3uPathType: '1',
    m3uUrl: opts.playlistUrl,
    m3uCache: 'false',
    epgPathType: '1',
    epgUrl: opts.guideUrl,
    epgCache: 'false',
    logoFromEpg: '0',
  };
  const lines = Object.entries(settings).map(([id, value]) => `    <setting id="${id}">${value}</setting>`);
  await writeFile(
    path.join(userdata, 'addon_data', 'pvr.iptvsimple', 'settings.xml'),
    `<settings version="2">\n${lines.join('\n')}\n</settings>\n`,
  );
  // Debug logging shows each HTTP request Kodi makes; JSON-RPC on a port of our own.
  await writeFile(
    path.join(userdata, 'advancedsettings.xml'),
    `<advancedsettings version="1.0">\n  <loglevel>1</loglevel>\n  <jsonrpc><tcpport>${rpcPort}</tcpport></jsonrpc>\n</advancedsettings>\n`,
  );
}

/** A JSON-RPC client over Kodi's TCP interface (one JSON object per answer, no framing). */
function rpcClient(port: number): Kodi['rpc'] {
  let id = 0;
  return (method, params) =>
    new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.setTimeout(20_000, () => socket.destroy(new Error(`${method}: no answer`)));
      socket.on('connect', () =>
        socket.write(JSON.stringify({ jsonrpc: '2.0', id: ++id, method, ...(params ? { params } : {}) })),
      );
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => {
        text += c;
        try {
          const answer = JSON.parse(text) as { result?: unknown; error?: { message: string } };
          socket.end();
          if (answer.error) reject(new Error(`${method}: ${answer.error.message}`));
          else resolve(answer.result as never);
        } catch {
          // Not whole yet: wait for the rest.
        }
      });
      socket.on('error', reject);
    });
}

export async function startKodi(opts: KodiOptions): Promise<Kodi> {
  const home = path.join(opts.dir, 'home');
  const rpcPort = await freePort();
  await writeSettings(home, opts, rpcPort);
  const xvfb = await startXvfb();
  const kodi = run('kodi', ['--standalone'], { ...process.env, HOME: home, DISPLAY: xvfb.display });
  const rpc = rpcClient(rpcPort);
  const stop = async (): Promise<void> => {
    await rpc('Application.Quit').catch(() => undefined);
    await stopped(kodi);
    await stopped(xvfb.child);
  };
  try {
    await waitFor(() => rpc('JSONRPC.Ping').then((r) => r === 'pong'), 60_000, 500);
  } catch (err) {
    await stop();
    throw new Error('Kodi did not answer JSON-RPC within 60 s', { cause: err });
  }
  return {
    display: xvfb.display,
    logFile: path.join(home, '.kodi', 'temp', 'kodi.log'),
    rpc,
    async screenshot(file) {
      const grab = run('ffmpeg', [
        '-loglevel',
        'error',
        '-y',
        '-f',
        'x11grab',
        '-video_size',
        `${WIDTH}x${HEIGHT}`,
        '-i',
        xvfb.display,
        '-frames:v',
        '1',
        file,
      ]);
      const code = await new Promise<number | null>((resolve) => grab.once('exit', resolve));
      if (code !== 0) throw new Error(`ffmpeg x11grab failed (${code})`);
    },
    stop,
  };
}
