import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

// A clock the test moves: link expiry is checked against the app's `now`.
let fakeNow = Date.now();
let server: TestServer;

beforeAll(async () => {
  server = await startServer({ linkTtl: 60 }, { now: () => fakeNow });
});
afterAll(async () => {
  await server?.close();
});

interface Invitation {
  id: string;
  clinicianCode: string;
  patientCode: string;
}

async function invite(): Promise<Invitation> {
  const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123' });
  expect(res.status).toBe(201);
  const sms = (await server.outbox()).find((m) => m.consultationId === res.body.id);
  if (!sms) throw new Error('no SMS for the new consultation');
  return { id: res.body.id, clinicianCode: codeOf(res.body.clinicianUrl), patientCode: codeOf(linkIn(sms.body)) };
}

async function redeem(code: string, cookie?: string) {
  const res = await fetch(`${server.url}/api/v1/links/${code}/redeem`, {
    method: 'POST', headers: cookie ? { cookie } : {},
  });
  const setCookies = res.headers.getSetCookie();
  return { status: res.status, body: await res.json() as any, setCookies, headers: res.headers };
}

/** "name=value" of a Set-Cookie line, to send back as a browser would. */
const cookiePair = (setCookie: string) => setCookie.split(';')[0] as string;

describe('GET /j/:code', () => {
  it('serves the page and never consumes the code', async () => {
    const inv = await invite();
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${server.url}/j/${inv.patientCode}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toMatch(/<html/i);
    }
    const r = await redeem(inv.patientCode);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ role: 'patient', consultationId: inv.id });
  });

  it('serves the page without a referrer and without inline script', async () => {
    const inv = await invite();
    const res = await fetch(`${server.url}/j/${inv.patientCode}`);
    await res.text();
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = res.headers.get('content-security-policy');
    expect(csp).toBeTruthy();
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toMatch(/script-src 'self'/);
  });

  it('tells every cache not to store the page, whose URL holds a live code', async () => {
    const inv = await invite();
    const res = await fetch(`${server.url}/j/${inv.patientCode}`);
    await res.text();
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('serves the page for a code it does not know (the page explains)', async () => {
    const res = await fetch(`${server.url}/j/AAAAAAAAAAAAAAAAAAAAAA`);
    await res.text();
    expect(res.status).toBe(200);
  });

  describe('tells the page what redeeming would do, so it can start the camera at once and resume a reload', () => {
    const FRESH = '<meta name="openconsult-link" content="fresh">';
    const HELD = '<meta name="openconsult-link" content="held">';
    const page = async (code: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${server.url}/j/${code}`, { headers });
      expect(res.status).toBe(200);
      return res.text();
    };

    it('says fresh for a fresh link, and looking uses nothing up', async () => {
      const inv = await invite();
      expect(await page(inv.patientCode)).toContain(FRESH);
      expect(await page(inv.patientCode)).toContain(FRESH);
      expect((await redeem(inv.patientCode)).status).toBe(200);
    });

    it('says held to the browser that redeemed it (a reload), and neither to any other browser', async () => {
      const inv = await invite();
      const r = await redeem(inv.patientCode);
      const cookie = cookiePair(r.setCookies[0] as string);
      expect(await page(inv.patientCode, { cookie })).toContain(HELD);
      const other = await page(inv.patientCode);
      expect(other).not.toContain(FRESH);
      expect(other).not.toContain(HELD);
    });

    it('says neither for an unknown, malformed, expired or ended one', async () => {
      const neither = (html: string) => {
        expect(html).not.toContain(FRESH);
        expect(html).not.toContain(HELD);
      };
      neither(await page('AAAAAAAAAAAAAAAAAAAAAA'));
      neither(await page('A'.repeat(23)));
      neither(await page('abc'));
      const ended = await invite();
      expect((await server.api('POST', `/api/v1/consultations/${ended.id}/end`)).status).toBe(200);
      neither(await page(ended.patientCode));
      const expired = await invite();
      fakeNow += 61_000;
      neither(await page(expired.patientCode));
    });

    it('serves both builds compressed, with the same security headers', async () => {
      const inv = await invite();
      for (const code of [inv.patientCode, 'AAAAAAAAAAAAAAAAAAAAAA']) {
        const res = await fetch(`${server.url}/j/${code}`, { headers: { 'accept-encoding': 'br' } });
        await res.arrayBuffer();
        expect(res.headers.get('content-encoding')).toBe('br');
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      }
    });
  });
});

describe('POST /api/v1/links/:code/redeem', () => {
  it('redeems a patient link once and sets the session cookie', async () => {
    const inv = await invite();
    const r = await redeem(inv.patientCode);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ role: 'patient', consultationId: inv.id });
    expect(r.headers.get('cache-control')).toBe('no-store');
    const cookie = r.setCookies.find((c) => c.startsWith(`oc_s_${inv.id}=`));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(new RegExp(`^oc_s_${inv.id}=[A-Za-z0-9_.-]+;`));
    expect(cookie).toMatch(/;\s*HttpOnly(;|$)/i);
    expect(cookie).toMatch(/;\s*SameSite=Strict(;|$)/i);
    expect(cookie).toMatch(/;\s*Path=\/(;|$)/);
    expect(cookie).toMatch(/;\s*Max-Age=\d+/i);
  });

  it('redeems a clinician link as the clinician', async () => {
    const inv = await invite();
    const r = await redeem(inv.clinicianCode);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ role: 'clinician', consultationId: inv.id });
  });

  it('refuses a replayed link', async () => {
    const inv = await invite();
    expect((await redeem(inv.patientCode)).status).toBe(200);
    const again = await redeem(inv.patientCode);
    expect(again.status).toBe(410);
    expect(again.body).toEqual({ error: { code: 'link_used', message: expect.any(String) } });
    expect(again.setCookies).toEqual([]);
  });

  it('does not know a well-formed code it never issued', async () => {
    const r = await redeem('AAAAAAAAAAAAAAAAAAAAAA');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: { code: 'link_not_found', message: expect.any(String) } });
  });

  it.each([
    ['too short', 'abc'],
    ['one character short', 'A'.repeat(21)],
    ['one character long', 'A'.repeat(23)],
    ['a character outside base64url', `${'A'.repeat(21)}%2B`],
  ])('does not know a malformed code (%s)', async (_what, code) => {
    const r = await redeem(code);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: { code: 'link_not_found', message: expect.any(String) } });
  });

  it('refuses a link past its expiry', async () => {
    const inv = await invite();
    fakeNow += 61_000;
    const r = await redeem(inv.patientCode);
    expect(r.status).toBe(410);
    expect(r.body).toEqual({ error: { code: 'link_expired', message: expect.any(String) } });
    expect(r.setCookies).toEqual([]);
  });

  it('lets the browser that redeemed a link open it again, but not another browser', async () => {
    const inv = await invite();
    const first = await redeem(inv.patientCode);
    expect(first.status).toBe(200);
    const cookie = cookiePair(first.setCookies[0] as string);

    const sameBrowser = await redeem(inv.patientCode, cookie);
    expect(sameBrowser.status).toBe(200);
    expect(sameBrowser.body).toMatchObject({ role: 'patient', consultationId: inv.id, resumed: true });
    expect(sameBrowser.setCookies.some((c) => c.startsWith(`oc_s_${inv.id}=`))).toBe(true);

    const otherBrowser = await redeem(inv.patientCode);
    expect(otherBrowser.status).toBe(410);
    expect(otherBrowser.body.error.code).toBe('link_used');
  });

  it('does not let the clinician\'s session stand in for the patient\'s link', async () => {
    const inv = await invite();
    const clinician = await redeem(inv.clinicianCode);
    const cookie = cookiePair(clinician.setCookies[0] as string);
    const patient = await redeem(inv.patientCode, cookie);
    expect(patient.status).toBe(200);
    expect(patient.body).toMatchObject({ role: 'patient', resumed: false });
    // ...and a used patient link stays used for the clinician's browser.
    const replay = await redeem(inv.patientCode, cookie);
    expect(replay.status).toBe(410);
    expect(replay.body.error.code).toBe('link_used');
  });

  it('ignores a forged session cookie', async () => {
    const inv = await invite();
    expect((await redeem(inv.patientCode)).status).toBe(200);
    const forged = await redeem(inv.patientCode, `oc_s_${inv.id}=eyJhbGciOiJub25lIn0.eyJ0eXAiOiJzZXNzaW9uIn0.`);
    expect(forged.status).toBe(410);
    expect(forged.body.error.code).toBe('link_used');
  });

  it('lets exactly one of 50 concurrent redemptions of a link through', async () => {
    const inv = await invite();
    const results = await Promise.all(Array.from({ length: 50 }, () => redeem(inv.patientCode)));
    const ok = results.filter((r) => r.status === 200);
    const used = results.filter((r) => r.status === 410 && r.body.error?.code === 'link_used');
    expect(ok).toHaveLength(1);
    expect(used).toHaveLength(49);
    expect(ok[0]?.body).toMatchObject({ role: 'patient', consultationId: inv.id });
  });
});

describe('link redemption metrics', () => {
  it('counts redemptions by outcome', async () => {
    const metric = async (result: string) => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      return Number(new RegExp(`openconsult_link_redemptions_total\\{result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    };
    const [ok, used] = [await metric('ok'), await metric('link_used')];
    const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700900123' });
    const code = codeOf(created.body.clinicianUrl);
    expect((await fetch(`${server.url}/api/v1/links/${code}/redeem`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/links/${code}/redeem`, { method: 'POST' })).status).toBe(410);
    expect(await metric('ok')).toBe(ok + 1);
    expect(await metric('link_used')).toBe(used + 1);
  });
});
