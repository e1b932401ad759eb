/** What the staff sign-in integration tests share: the real server on a test clock, and plain HTTP calls with the staff cookie. */
import { afterEach } from 'vitest';
import type { SettingKey } from '../../../config/settings.js';
import { startServer, type TestServer } from '../../helpers/server.js';

export const PASSWORD = 'a long staff password';
export const T0 = Date.UTC(2026, 10, 30, 9, 0, 15);

export interface Answer { status: number; body: any; cookie: string | undefined; headers: Headers }

/** The server each test starts (closed after it), its clock reset to T0 and moved by the test. */
export const staffServer = {
  server: undefined as TestServer | undefined,
  t: T0,
  async start(overrides: Partial<Record<SettingKey, unknown>> = {}): Promise<TestServer> {
    this.t = T0;
    this.server = await startServer(overrides, { now: () => this.t });
    return this.server;
  },
  /** Where the server listens (its links may name another PUBLIC_URL). */
  base(): string {
    const addr = this.server?.app.http.server.address();
    return typeof addr === 'object' && addr ? `http://127.0.0.1:${addr.port}` : '';
  },
  async call(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(`${this.base()}${route}`, {
      method, redirect: 'manual',
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const set = res.headers.getSetCookie().find((c) => c.startsWith('oc_staff='));
    return { status: res.status, body: text ? JSON.parse(text) : undefined, cookie: set?.split(';')[0], headers: res.headers };
  },
};

afterEach(async () => {
  await staffServer.server?.close();
  staffServer.server = undefined;
});
