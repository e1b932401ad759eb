/**
 * Which browser a patient opened their link in, from real user-agent strings: apps' own
 * (in-app) browsers get told how to open the page in Safari or Chrome, and refused camera
 * permissions get steps for the browser in hand.
 */
import { describe, expect, it } from 'vitest';
import { inAppBrowser, joinBlock, openInBrowserHelp, permissionHelp, platformOf } from '../../../client/browser-help.js';

const ua = {
  androidChrome: 'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  androidSamsung: 'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
  androidFirefox: 'Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0',
  androidFacebook: 'Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 '
    + 'Chrome/124.0.6367.82 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/460.0.0.48.109;]',
  androidInstagram: 'Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 '
    + 'Chrome/123.0.6312.118 Mobile Safari/537.36 Instagram 327.0.0.37.105 Android (33/13; 480dpi; 1080x2190; samsung; SM-G991B; o1s; exynos2100; en_GB; 584519744)',
  androidWebView: 'Mozilla/5.0 (Linux; Android 12; moto g(30) Build/S0RC32.41-10-14; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/121.0.6167.178 Mobile Safari/537.36',
  androidGoogleApp: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 GSA/15.16.37.29.arm64',
  iphoneSafari: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  iphoneChrome: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.71 Mobile/15E148 Safari/604.1',
  iphoneFirefox: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15',
  iphoneFacebook: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 '
    + '[FBAN/FBIOS;FBAV/460.0.0.35.109;FBBV/585542093;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.4;FBSS/3;FBID/phone;FBLC/en_GB;FBOP/5]',
  iphoneWhatsApp: 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 WhatsApp/23.20.79',
  iphoneWebView: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  iphoneLine: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/14.5.0',
  // iPadOS asks for desktop sites by default and says "Macintosh"; only "Mobile" gives it away.
  ipadDesktopMode: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  macSafari: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  windowsEdge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
  windowsChrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  linuxFirefoxEsr: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
};

describe('platformOf', () => {
  it.each([
    ['androidChrome', 'android'], ['androidFirefox', 'android'], ['androidFacebook', 'android'],
    ['iphoneSafari', 'ios'], ['iphoneChrome', 'ios'], ['ipadDesktopMode', 'ios'],
    ['macSafari', 'desktop'], ['windowsEdge', 'desktop'], ['linuxFirefoxEsr', 'desktop'],
  ] as const)('%s is %s', (name, platform) => {
    expect(platformOf(ua[name])).toBe(platform);
  });
});

describe('inAppBrowser', () => {
  it.each([
    ['androidFacebook', 'Facebook'],
    ['iphoneFacebook', 'Facebook'],
    ['androidInstagram', 'Instagram'],
    ['iphoneWhatsApp', 'WhatsApp'],
    ['iphoneLine', 'LINE'],
    ['androidGoogleApp', 'the Google app'],
    // Unnamed apps: an Android WebView says "; wv)", an iOS one lacks "Safari/".
    ['androidWebView', 'an app'],
    ['iphoneWebView', 'an app'],
  ] as const)('%s is inside %s', (name, app) => {
    expect(inAppBrowser(ua[name])).toBe(app);
  });

  it.each([
    'androidChrome', 'androidSamsung', 'androidFirefox', 'iphoneSafari', 'iphoneChrome', 'iphoneFirefox',
    'ipadDesktopMode', 'macSafari', 'windowsEdge', 'windowsChrome', 'linuxFirefoxEsr',
  ] as const)('%s is a real browser', (name) => {
    expect(inAppBrowser(ua[name])).toBeUndefined();
  });

  it('tells nothing apart from an empty user agent (it only advises, never blocks)', () => {
    expect(inAppBrowser('')).toBeUndefined();
    expect(platformOf('')).toBe('desktop');
  });
});

describe('joinBlock (where the page must not redeem a link)', () => {
  it('blocks an app\'s own browser and a browser without WebRTC, nothing else', () => {
    expect(joinBlock(ua.iphoneFacebook, true)).toEqual({ kind: 'in-app', app: 'Facebook' });
    expect(joinBlock(ua.androidInstagram, true)).toEqual({ kind: 'in-app', app: 'Instagram' });
    expect(joinBlock(ua.windowsChrome, false)).toEqual({ kind: 'no-webrtc' });
    for (const name of ['iphoneSafari', 'iphoneChrome', 'androidChrome', 'androidSamsung', 'windowsEdge', 'linuxFirefoxEsr'] as const) {
      expect(joinBlock(ua[name], true)).toBeUndefined();
    }
  });

  it('tells the person in an app that the link still works in the browser', () => {
    expect(openInBrowserHelp(ua.iphoneFacebook, 'Facebook')).toContain('has not been used');
  });
});

describe('openInBrowserHelp', () => {
  it('on Android, names the app and says to open the page in Chrome', () => {
    const help = openInBrowserHelp(ua.androidFacebook, 'Facebook');
    expect(help).toContain('inside Facebook');
    expect(help).toContain('Open in Chrome');
    expect(help).toContain('⋮');
  });

  it('on an iPhone, says to open it in Safari', () => {
    const help = openInBrowserHelp(ua.iphoneWhatsApp, 'WhatsApp');
    expect(help).toContain('inside WhatsApp');
    expect(help).toContain('Open in Safari');
    expect(help).not.toContain('Chrome');
  });

  it('on a computer, lists the browsers that work', () => {
    expect(openInBrowserHelp(ua.windowsChrome, 'an app')).toMatch(/Chrome, Edge, Firefox or Safari/);
  });
});

describe('permissionHelp', () => {
  it('gives iPhone users Safari\'s steps, then the Settings app', () => {
    const steps = permissionHelp(ua.iphoneSafari);
    expect(steps).toHaveLength(3);
    expect(steps[0]).toContain('Website Settings');
    expect(steps[2]).toContain('Settings app');
  });

  it('gives Android users Chrome\'s site permissions, then the phone\'s app permissions', () => {
    const steps = permissionHelp(ua.androidChrome);
    expect(steps).toHaveLength(3);
    expect(steps[0]).toContain('Permissions');
    expect(steps.join(' ')).toContain('Try camera and microphone again');
    expect(steps[2]).toContain('Apps, Chrome, Permissions');
  });

  it('gives desktop Firefox its own address-bar icon', () => {
    const steps = permissionHelp(ua.linuxFirefoxEsr);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toContain('crossed-out camera icon');
  });

  it('gives other desktop browsers the camera icon in the address bar', () => {
    for (const name of ['windowsEdge', 'windowsChrome', 'macSafari'] as const) {
      expect(permissionHelp(ua[name])[0]).toContain('Always allow');
    }
  });

  it('every step is a plain sentence (no markup: it is set as text)', () => {
    for (const agent of Object.values(ua)) {
      for (const step of permissionHelp(agent)) {
        expect(step).not.toMatch(/[<>]/);
        expect(step).toMatch(/\.$/);
      }
    }
  });
});
