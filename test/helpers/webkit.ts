/**
 * WebKit, Safari's engine (every browser on an iPhone is WebKit), as Debian has it: WebKitGTK's
 * MiniBrowser driven by WebKitWebDriver under Xvfb (design.md 6), spoken to in plain W3C
 * WebDriver over HTTP (fetch): no dependency. Its media stream is on with mock capture devices
 * (a mock camera and microphone); this build has no RTCPeerConnection.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './process.js';

export const miniBrowserPath = process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
export const webKitDriverPath = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';

export interface WebKitPage {
  goto(url: string): Promise<void>;
  /** Runs `script` (a function body, with `arguments`) in the page; resolves to what it returns. */
  run<T>(script: string, ...args: unknown[]): Promise<T>;
  /** Polls `script` until it returns something truthy (or throws after `timeout` ms), resolving to it. */
  waitFor<T>(script: string, timeout?: number): Promise<T>;
  /** A PNG of the window. */
  screenshot(): Promise<Buffer>;
  close(): Promise<void>;
}

/** Xvfb on a display it picks itself (-displayfd), so parallel runs never collide. */
async function startXvfb(): Promise<{ child: ChildProcess; display: string }> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    child.once('exit', (code) => reject(new Error(`Xvfb exited (${String(code)}): ${err}`)));
  });
  return { child, display };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Starts Xvfb, the driver and a MiniBrowser session; `close` ends all three. */
export async function openWebKit(): Promise<WebKitPage> {
  const xvfb = await startXvfb();
  const port = await freePort();
  const driver = spawn(webKitDriverPath, [`--port=${port}`], {
    env: { ...process.env, DISPLAY: xvfb.display }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let driverErr = '';
  driver.stderr?.on('data', (d: Buffer) => (driverErr += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const call = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${route}`, {
      method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer = await res.json() as { value: T & { error?: string; message?: string } };
    if (!res.ok) throw new Error(`WebDriver ${method} ${route}: ${answer.value?.error ?? res.status} ${answer.value?.message ?? ''}`);
    return answer.value;
  };
  try {
    // The driver answers /status once it listens.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const up = await fetch(`${base}/status`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > deadline || driver.exitCode !== null) throw new Error(`WebKitWebDriver did not start: ${driverErr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const session = await call<{ sessionId: string; capabilities: Record<string, unknown> }>('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          'webkitgtk:browserOptions': {
            binary: miniBrowserPath,
            args: ['--automation', '--enable-media-stream=true', '--enable-mock-capture-devices=true'],
          },
        },
      },
    });
    const id = session.sessionId;
    const run = <T>(script: string, ...args: unknown[]) => call<T>('POST', `/session/${id}/execute/sync`, { script, args });
    return {
      goto: async (url) => {
        await call('POST', `/session/${id}/url`, { url });
      },
      run,
      waitFor: async <T>(script: string, timeout = 20_000) => {
        const until = Date.now() + timeout;
        for (;;) {
          const value = await run<T>(script).catch(() => undefined);
          if (value) return value;
          if (Date.now() > until) throw new Error(`WebKit: waiting for ${script} timed out after ${timeout} ms`);
          await new Promise((r) => setTimeout(r, 200));
        }
      },
      screenshot: async () => Buffer.from(await call<string>('GET', `/session/${id}/screenshot`), 'base64'),
      close: async () => {
        await call('DELETE', `/session/${id}`).catch(() => undefined);
        await stop(driver);
        await stop(xvfb.child);
      },
    };
  } catch (err) {
    await stop(driver);
    await stop(xvfb.child);
    throw err;
  }
}

/** WebKitGTK's version, as the test reports it (the package's, e.g. 2.50.6). */
export async function webKitVersion(): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('dpkg-query', ['-W', '-f=${Version}', 'libwebkit2gtk-4.1-0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => resolve(out.trim() || 'unknown'));
  });
}
