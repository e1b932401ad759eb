/**
 * The page behind every link (/j/{code}): patient, clinician and guest alike.
 *   camera/mic check -> Join (redeems the code) -> waiting room (patients, guests) -> call -> ended
 * The GET that loaded this page consumed nothing, and neither does loading it: the code is
 * redeemed (the POST in `redeem`, exactly once) only when the person presses Join in a browser
 * that can hold the call, so an app's own browser, a browser without WebRTC or a link scanner
 * that runs JavaScript leaves the link for the browser the person then opens. Which build of the
 * page this is says what redeeming would do (server/http/link-page.ts). This script holds the
 * screens; the connection and the media that drive them from Join on arrive with the media chunk
 * (media.ts -> page/consultation.ts). The parts are in page/.
 */
import { type Redeemed, RedeemError, redeem } from './api.js';
import { joinBlock, noWebRtcHelp } from './browser-help.js';
import type { RemoteStats } from './call.js';
import { openCameraAndMic, stopTracks } from './local-media.js';
import type { Consultation } from './page/consultation.js';
import { CheckScreen } from './page/check.js';
import { domReady, el, setText, show, showError } from './page/dom.js';
import { LocalMedia } from './page/local.js';
import { screenFactory } from './page/screens.js';
import { type PageState, PageStates } from './page/state.js';
import { mark, timeline } from './timeline.js';
import type { LinkPage } from '../server/http/link-page.js';
import { confirmIdentity } from './page/identity.js';
import { offerPhoneMe } from './page/phone-me.js';

const page = new PageStates();
const local = new LocalMedia();
let consultation: Consultation | undefined;
/** This browser's session from the link: from the start on a reload, else from Join. */
let session: Redeemed | undefined;

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
  rate_limited: 'Too many tries',
  network: 'No connection',
  identity_locked: 'We could not confirm who you are',
};

/** Refusals after which the patient may still ask to be phoned (the link proves they got the text). */
const phoneMeAfter = new Set(['link_used', 'link_expired', 'consultation_closed', 'identity_locked']);

function showRedeemError(err: unknown): void {
  page.to('error');
  const e = err instanceof RedeemError ? err : new RedeemError('unknown', 'Something went wrong.');
  const retry = e.code === 'network' || e.code === 'rate_limited';
  showError(redeemTitles[e.code] ?? 'Something went wrong', e.message, retry ? 'Check your connection, then reload this page.'
    : e.code === 'identity_locked' ? 'Call the practice, or ask them to phone you below.' : undefined);
  if (phoneMeAfter.has(e.code)) offerPhoneMe('error', linkCode());
}

/** What the GET found redeeming would do (the meta tag of this build). */
function linkPage(): LinkPage {
  const tag = document.querySelector('meta[name="openconsult-link"]')?.getAttribute('content');
  return tag === 'fresh' || tag === 'held' || tag === 'identity' ? tag : 'refused';
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
  // parsed, so the camera (and a reload's resumption) run meanwhile; the DOM is touched once parsed.
  const kind = linkPage();
  const block = joinBlock(navigator.userAgent, typeof RTCPeerConnection === 'function');
  // The patient confirms their date of birth before anything else (no camera until then).
  if (kind === 'identity') {
    await domReady();
    if (!(await confirmIdentity(linkCode(), showRedeemError))) return;
  }
  // A link that would not redeem never asks for the camera: the refusal says why.
  let camera = kind === 'refused' ? undefined : startCamera();
  if (kind === 'held' || kind === 'refused') {
    // A reload resumes this browser's session; a refused link learns why. Neither uses anything up.
    try {
      session = await redeem(linkCode());
      mark('redeemed');
    } catch (err) {
      void camera?.then(stopTracks, () => undefined);
      await domReady();
      showRedeemError(err);
      return;
    }
    camera ??= startCamera();
  }
  await domReady();
  const check = new CheckScreen(local);
  // In an app's own browser the check still runs, but Join (which would use the link) is not offered.
  if (!session && block) el('join-button').hidden = true;
  // A browser without WebRTC (an old or locked-down one) still checks the camera, then says it
  // cannot hold the call and offers the way forward: another browser, or the practice phones.
  if (!session && block?.kind === 'no-webrtc') {
    setText('inapp-help', `${noWebRtcHelp.message} ${noWebRtcHelp.action}`);
    el('inapp-warning').hidden = false;
    offerPhoneMe('check', linkCode(), { open: true });
  }
  el('join-button').addEventListener('click', () => void join(check));
  for (const id of ['switch-camera', 'switch-check-camera'] as const) el(id).addEventListener('click', () => void switchCamera());
  page.to('check');
  show('check');
  // Only the patient can be phoned instead; before Join a fresh link's role is not known yet.
  if ((session?.role ?? 'patient') === 'patient') offerPhoneMe('check', linkCode());
  if (session?.role === 'patient') offerPhoneMe('waiting', linkCode());
  await check.run(camera);
  // After the check step has painted: parsing the media chunk must not delay the self-view. A
  // session already held opens the connection too, so that Join costs one request.
  requestAnimationFrame(() => setTimeout(() => {
    loadMedia().then((media) => {
      // How media would reach the service, while the person looks at their camera (never holds Join up).
      void media.showConnectionCheck(linkCode());
      if (session) open(media, check, session);
    }, () => undefined);
  }, 0));
}

/** The connection, opened while the person is still on the check step (or on Join if sooner). */
function open(media: MediaModule, check: CheckScreen, { role, consultationId }: Redeemed): Consultation {
  consultation ??= new media.Consultation({ page, local, check, screens: screenFactory(page, local, role), role, consultationId });
  return consultation;
}

/**
 * Join redeems the link (unless this browser holds its session already), then joins: nothing
 * happens on the server before, so the person is not shown as waiting, and the link is not used.
 */
async function join(check: CheckScreen): Promise<void> {
  if (!page.to('joining')) return;
  el('join-button').disabled = true;
  setText('check-status', 'Joining…');
  const backToCheck = (message: string) => {
    page.to('check');
    el('join-button').disabled = false;
    setText('check-status', message);
  };
  if (!session) {
    try {
      session = await redeem(linkCode());
      mark('redeemed');
      if (session.role === 'patient') offerPhoneMe('waiting', linkCode());
    } catch (err) {
      if (err instanceof RedeemError && err.code === 'network') return backToCheck(`${err.message} Then press Join again.`);
      check.stop();
      local.stop();
      showRedeemError(err);
      return;
    }
  }
  let media: MediaModule;
  try {
    media = await loadMedia();
  } catch {
    return backToCheck('The page could not load everything it needs. Check your internet connection, then press Join again.');
  }
  check.stop();
  // A connection already on its way joins as soon as it is up.
  open(media, check, session).join();
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
