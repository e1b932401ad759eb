/**
 * The page behind every link (/j/{code}): patient, clinician and guest alike.
 *   redeem the code -> camera/mic check -> Join -> waiting room (patients, guests) -> call -> ended
 * The GET that loaded this page consumed nothing; the POST in `redeem` does, exactly once.
 * This script holds the screens; the connection and the media that drive them from Join on
 * arrive with the media chunk (media.ts -> page/consultation.ts). The parts are in page/.
 */
import { RedeemError, redeem } from './api.js';
import type { RemoteStats } from './call.js';
import { openCameraAndMic, stopTracks } from './local-media.js';
import type { Consultation } from './page/consultation.js';
import { CheckScreen } from './page/check.js';
import { domReady, el, setText, show, showError } from './page/dom.js';
import { LocalMedia } from './page/local.js';
import { screenFactory } from './page/screens.js';
import { type PageState, PageStates } from './page/state.js';
import { mark, timeline } from './timeline.js';

const page = new PageStates();
const local = new LocalMedia();
let consultation: Consultation | undefined;

type MediaModule = typeof import('./media.js');
let mediaModule: Promise<MediaModule> | undefined;
/** Fetched once the camera check shows (see media.ts); a failed fetch is tried again on Join. */
function loadMedia(): Promise<MediaModule> {
  mediaModule ??= import('./media.js').catch((err: unknown) => {
    mediaModule = undefined;
    throw err;
  });
  return mediaModule;
}

// Diagnostics for support staff and automated checks: what this page receives.
declare global {
  interface Window {
    openconsult: { state: () => PageState; stats: () => Promise<RemoteStats>; timeline: [string, number][] };
  }
}
window.openconsult = {
  state: () => page.state,
  stats: () => consultation?.stats() ?? Promise.resolve({ paths: [], video: [], audio: [] }),
  timeline,
};

const redeemTitles: Record<string, string> = {
  link_used: 'This link has already been used',
  link_expired: 'This link has expired',
  link_not_found: 'This link is not valid',
  consultation_closed: 'This consultation has ended',
  network: 'No connection',
};

function linkLooksUsable(): boolean {
  return document.querySelector('meta[name="openconsult-link"]')?.getAttribute('content') === 'usable';
}

function startCamera(): Promise<MediaStream> {
  mark('camera-asked');
  const camera = openCameraAndMic();
  camera.catch(() => undefined); // reported by the check screen
  return camera;
}

function linkCode(): string {
  const m = /^\/j\/([^/?#]+)/.exec(location.pathname);
  return m ? decodeURIComponent(m[1] as string) : '';
}

async function main(): Promise<void> {
  // The script is async: it starts while the page's stylesheet still loads and its body is being
  // parsed, so the redemption and the camera run meanwhile; the DOM is touched once parsed. The
  // camera starts alongside the redemption only in the build of this page served for a link that
  // would redeem (server/http/link-page.ts): a spent or expired link never asks for it.
  let camera = linkLooksUsable() ? startCamera() : undefined;
  let session;
  try {
    session = await redeem(linkCode());
    mark('redeemed');
    camera ??= startCamera();
    await domReady();
  } catch (err) {
    // Used up between the page and the redemption (another tab, say): nothing keeps the camera on.
    void camera?.then(stopTracks, () => undefined);
    await domReady();
    page.to('error');
    const e = err instanceof RedeemError ? err : new RedeemError('unknown', 'Something went wrong.');
    showError(redeemTitles[e.code] ?? 'Something went wrong', e.message, e.code === 'network' ? 'Check your connection, then reload this page.' : undefined);
    return;
  }
  const { role, consultationId } = session;
  const check = new CheckScreen(local);
  const screens = screenFactory(page, local, role);
  /** The connection, opened while the person is still on the check step (or on Join if sooner). */
  const open = (media: MediaModule) => (consultation ??= new media.Consultation({ page, local, check, screens, role, consultationId }));
  el('join-button').addEventListener('click', () => void join(check, open));
  for (const id of ['switch-camera', 'switch-check-camera'] as const) el(id).addEventListener('click', () => void switchCamera());
  page.to('check');
  show('check');
  await check.run(camera);
  // After the check step has painted: parsing the media chunk must not delay the self-view.
  requestAnimationFrame(() => setTimeout(() => {
    loadMedia().then(open, () => undefined);
  }, 0));
}

/**
 * Join: pressing it costs one request, not a connection handshake too, when the connection is
 * already up. Nothing happens on the server until then: the person is not shown as waiting before.
 */
async function join(check: CheckScreen, open: (media: MediaModule) => Consultation): Promise<void> {
  if (!page.to('joining')) return;
  el('join-button').disabled = true;
  setText('check-status', 'Joining…');
  let media: MediaModule;
  try {
    media = await loadMedia();
  } catch {
    page.to('check');
    el('join-button').disabled = false;
    setText('check-status', 'The page could not load everything it needs. Check your internet connection, then press Join again.');
    return;
  }
  check.stop();
  // A connection already on its way joins as soon as it is up.
  open(media).join();
}

/** Front or back camera, on the check step or in the call. */
async function switchCamera(): Promise<void> {
  try {
    await local.switchCamera((track) => consultation?.sendVideoTrack(track) ?? Promise.resolve());
  } catch {
    setText(page.is('check') ? 'check-status' : 'call-status', 'The other camera could not be started.');
  }
}

void main();
