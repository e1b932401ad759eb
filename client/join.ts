/**
 * The page behind every link (/j/{code}): patient, clinician and guest alike.
 *   redeem the code -> camera/mic check -> Join -> waiting room (patients, guests) -> call -> ended
 * The GET that loaded this page consumed nothing; the POST in `redeem` does, exactly once.
 */
import type { ChatMessage, EndReason, JoinInfo, ParticipantView, Role } from '../signalling/events.js';
import { RedeemError, redeem } from './api.js';
import { inAppBrowser, openInBrowserHelp, permissionHelp } from './browser-help.js';
import type { Call, FlowState, RemoteStats, Tile } from './call.js';
import { MediaCheckError, meterMicrophone, openCamera, openCameraAndMic, stopTracks, videoInputCount } from './local-media.js';
import { request, type SignalSocket } from './signal.js';
import { mark, timeline } from './timeline.js';
import { domReady, el, find, setText, show, showError } from './ui.js';

type PageState = 'loading' | 'check' | 'joining' | 'waiting' | 'call' | 'ended' | 'error';

let state: PageState = 'loading';
let role: Role = 'patient';
let selfId = '';
/** When this person got into the call (admitted, or admitting someone), for the first-frame figure. */
let admittedAt: number | undefined;
let firstFrameReported = false;
let local: MediaStream | undefined;
let call: Call | undefined;
let socket: SignalSocket | undefined;
let stopMeter: () => void = () => undefined;
/** Set when the service says it is restarting: the disconnect that follows is not the end. */
let restarting = false;
const participants = new Map<string, ParticipantView>();
/** What actually arrives from each participant (their connection, or ours, may have dropped). */
const flow = new Map<string, FlowState>();
let flowTimer: ReturnType<typeof setInterval> | undefined;
/** The person's own mute choices, kept across reconnections. */
let micOn = true;
let cameraOn = true;
let facing: 'user' | 'environment' = 'user';
let stopSharing: (() => Promise<void>) | undefined;
const baseTitle = document.title;

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
  state: () => state,
  stats: () => call?.stats() ?? Promise.resolve({ paths: [], video: [], audio: [] }),
  timeline,
};

const endMessages: Record<EndReason, string> = {
  ended_by_clinician: 'Your clinician has ended the consultation. You can close this page now.',
  ended_by_api: 'The practice has ended the consultation. You can close this page now.',
  link_expired: 'This consultation has expired. Contact the practice if you still need to speak to them.',
  waiting_timeout: 'Sorry, the clinician could not see you this time. The practice will contact you.',
  call_time_limit: 'The consultation reached its time limit and has ended.',
  room_empty: 'Everyone has left, so the consultation has ended.',
};

function linkLooksUsable(): boolean {
  return document.querySelector('meta[name="openconsult-link"]')?.getAttribute('content') === 'usable';
}

function startCamera(): Promise<MediaStream> {
  mark('camera-asked');
  const camera = openCameraAndMic();
  camera.catch(() => undefined); // reported by checkMedia
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
    state = 'error';
    const e = err instanceof RedeemError ? err : new RedeemError('unknown', 'Something went wrong.');
    const titles: Record<string, string> = {
      link_used: 'This link has already been used',
      link_expired: 'This link has expired',
      link_not_found: 'This link is not valid',
      consultation_closed: 'This consultation has ended',
      network: 'No connection',
    };
    showError(titles[e.code] ?? 'Something went wrong', e.message, e.code === 'network' ? 'Check your connection, then reload this page.' : undefined);
    return;
  }
  role = session.role;
  el('end-button').hidden = role !== 'clinician';
  el('invite-panel').hidden = role !== 'clinician';
  el('join-button').addEventListener('click', () => void join(session.consultationId));
  el('retry-media').addEventListener('click', () => void checkMedia());
  wireCallControls();
  const app = inAppBrowser(navigator.userAgent);
  if (app) {
    setText('inapp-help', openInBrowserHelp(navigator.userAgent, app));
    el('inapp-warning').hidden = false;
  }
  state = 'check';
  show('check');
  await checkMedia(camera);
  // After the check step has painted: parsing the media chunk must not delay the self-view.
  requestAnimationFrame(() => setTimeout(() => {
    loadMedia().then((media) => {
      if (!socket) openSocket(session.consultationId, media);
    }, () => undefined);
  }, 0));
}

/** Starts (or restarts) the camera and microphone and shows how they do; `started` is a request already made. */
async function checkMedia(started?: Promise<MediaStream>): Promise<void> {
  const status = el('check-status');
  const joinButton = el<HTMLButtonElement>('join-button');
  el('retry-media').hidden = true;
  status.textContent = 'Starting your camera and microphone…';
  try {
    stopTracks(local);
    local = await (started ?? openCameraAndMic());
    mark('camera');
    el<HTMLVideoElement>('check-video').srcObject = local;
    stopMeter();
    const meter = el('mic-level');
    const meterBox = meter.parentElement as HTMLElement;
    stopMeter = meterMicrophone(local, (level) => {
      meter.style.width = `${level}%`;
      meterBox.setAttribute('aria-valuenow', String(level));
    });
    status.textContent = 'Your camera and microphone are working.';
    el('permission-help').hidden = true;
    el('check-preview').hidden = false;
    el('check-meter').hidden = false;
    // Join need not wait for this: the switch button appears a moment later on two-camera phones.
    void videoInputCount().then((cameras) => {
      el('switch-check-camera').hidden = cameras < 2;
      el('switch-camera').hidden = cameras < 2;
    });
  } catch (err) {
    local = undefined;
    // An empty preview and a still meter only push the explanation and its help off a phone's screen.
    el('check-preview').hidden = true;
    el('check-meter').hidden = true;
    status.textContent = err instanceof MediaCheckError ? err.message : 'Your camera or microphone could not be started.';
    if (err instanceof MediaCheckError && err.problem === 'denied') {
      const steps = permissionHelp(navigator.userAgent).map((text) => {
        const p = document.createElement('p');
        p.className = 'nhsuk-body';
        p.textContent = text;
        return p;
      });
      el('permission-help-text').replaceChildren(...steps);
      el('permission-help').hidden = false;
      (el('permission-help') as HTMLDetailsElement).open = true;
    }
    el('retry-media').hidden = false;
  }
  if (joinButton.disabled) mark('check-ready');
  joinButton.disabled = false;
}

async function join(consultationId: string): Promise<void> {
  if (state !== 'check') return;
  state = 'joining';
  el<HTMLButtonElement>('join-button').disabled = true;
  setText('check-status', 'Joining…');
  let media: MediaModule;
  try {
    media = await loadMedia();
  } catch {
    state = 'check';
    el<HTMLButtonElement>('join-button').disabled = false;
    setText('check-status', 'The page could not load everything it needs. Check your internet connection, then press Join again.');
    return;
  }
  stopMeter();
  if (!socket) openSocket(consultationId, media);
  else if (socket.connected) void enter(socket);
  // otherwise the connection, already on its way, joins as soon as it is up
}

/**
 * The signalling connection, opened while the person is still on the check step (or on Join if
 * that is sooner), so that pressing Join costs one request, not a connection handshake too.
 * Nothing happens on the server until `join`: the person is not shown as waiting before then.
 */
function openSocket(consultationId: string, media: MediaModule): void {
  socket = media.connect(consultationId);
  const s = socket;
  s.on('connect', () => {
    mark('connected');
    if (state !== 'check') void enter(s);
  });
  s.on('connect_error', (err) => {
    const data = (err as Error & { data?: { code?: string; message?: string } }).data;
    if (!data?.code) return; // a network problem: socket.io keeps trying
    s.disconnect();
    if (data.code === 'consultation_closed') finish('ended_by_api');
    else fail('You cannot join this consultation', data.message ?? 'Please open the link from your message again.');
  });
  s.on('participant', (p) => onParticipant(p));
  s.on('admitted', ({ producers }) => {
    mark('admitted');
    admittedAt = performance.now();
    enterCall();
    void call?.consumeAll(producers).catch(reportMediaError);
  });
  s.on('newProducer', (p) => mark(`newProducer:${p.kind}`));
  s.on('newProducer', (p) => void call?.consume(p).catch(reportMediaError));
  s.on('producerClosed', ({ producerId }) => call?.producerClosed(producerId));
  s.on('producerPaused', ({ producerId, paused }) => call?.producerPaused(producerId, paused));
  s.on('chat', (m) => showChat(m));
  s.on('practiceMessage', ({ text }) => {
    setText('practice-message', text);
    el('practice-message-box').hidden = false;
  });
  s.on('consultationEnded', ({ reason }) => finish(reason));
  s.on('callEndingSoon', ({ endsAt }) => {
    const at = new Date(endsAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    setText('call-notice', `This consultation will end at ${at}, when it reaches its time limit.`);
  });
  s.on('mediaReset', () => {
    mark('media-reset');
    // Our media server went away: a fresh connection and join set everything up again.
    setText(state === 'waiting' ? 'waiting-status' : 'call-status', 'Reconnecting the video…');
    call?.close();
    s.disconnect().connect();
  });
  s.on('serviceRestarting', () => {
    restarting = true;
  });
  s.on('disconnect', (reason) => {
    if (state === 'ended' || state === 'error' || state === 'check' || reason === 'io client disconnect') return;
    if (reason === 'io server disconnect' && restarting) {
      // socket.io does not retry a disconnect the server asked for; this one we retry ourselves.
      restarting = false;
      setText(state === 'waiting' ? 'waiting-status' : 'call-status', 'The service is restarting. Reconnecting…');
      s.connect();
    } else if (reason === 'io server disconnect') {
      fail('You have been disconnected', 'This consultation may be open in another window. Reload this page to continue here.');
    } else {
      setText(state === 'waiting' ? 'waiting-status' : 'call-status', 'Connection lost. Reconnecting…');
    }
  });
}

/** Joins (or rejoins after a reconnect) and sets up media. */
async function enter(s: SignalSocket): Promise<void> {
  let info: JoinInfo;
  try {
    info = await request(s, 'join', {});
    mark('joined');
    firstFrameReported = false;
    admittedAt = info.self.presence === 'admitted' ? performance.now() : undefined;
  } catch (err) {
    fail('You cannot join this consultation', (err as Error).message);
    return;
  }
  selfId = info.self.id;
  call?.close();
  const { Call } = await loadMedia();
  call = new Call(s, {
    onRemoteStream: renderRemote,
    onRemoteTrackEnded: (tile, stream) => {
      // A shared screen that stopped leaves no empty tile behind.
      if (tile.screen && stream.getTracks().length === 0) find(`remote-${tile.id}`)?.remove();
    },
    // With relay-only media, a TURN refusal means no video at all: say so instead of a silent black screen.
    onRelayError: (code) => {
      if (info.iceTransportPolicy === 'relay' && (code === 401 || code === 403)) {
        relayProblem('The video connection was refused by the practice\'s relay server. Please tell the practice: they can call you instead.');
      } else if (info.iceTransportPolicy === 'relay' && code === 701) {
        relayProblem('We could not reach the practice\'s relay server for the video. Check your internet connection, or tell the practice.');
      }
    },
  });
  participants.clear();
  for (const p of info.participants) participants.set(p.id, p);
  renderParticipants();
  const c = call;
  const starting = (async () => {
    await c.start(info, local);
    if (!micOn) await c.setMicEnabled(false);
    if (!cameraOn) await c.setCameraEnabled(false);
  })().catch(reportMediaError);
  if (info.self.presence === 'waiting') {
    // The clinician sees them waiting from now on, so say so now; their media gets ready while
    // they wait (an Admit that comes first is served as soon as it is: see Call.consume).
    state = 'waiting';
    setText('waiting-status', 'Your clinician knows you are here and will let you in soon.');
    show('waiting');
    await starting;
  } else {
    await starting;
    enterCall();
    await c.consumeAll(info.producers).catch(reportMediaError);
  }
}

/** Once a second: does media still arrive from everyone? Shows "reconnecting" when it stops. */
function watchFlow(): void {
  clearInterval(flowTimer);
  flowTimer = setInterval(() => {
    void call?.sampleFlow().then((now) => {
      let changed = false;
      for (const [id, s] of now) {
        if (flow.get(id) !== s) {
          changed = true;
          if (s === 'stalled' || flow.get(id) === 'stalled') mark(`remote-${s}`);
        }
        flow.set(id, s);
      }
      if (changed) renderParticipants();
    });
  }, 1000);
}

function enterCall(): void {
  if (state !== 'call') {
    watchFlow();
    state = 'call';
    el<HTMLVideoElement>('self-video').srcObject = local ?? null;
    show('call');
  }
  renderParticipants();
}

function onParticipant(p: ParticipantView): void {
  participants.set(p.id, p);
  if (p.presence === 'left') {
    call?.forget(p.id);
    find(`remote-${p.id}`)?.remove();
    find(`remote-${p.id}-screen`)?.remove();
  }
  renderParticipants();
}

function renderParticipants(): void {
  const others = [...participants.values()];
  // Who is in the call, and in what state, for the person at this end.
  const inCall = others.filter((p) => p.presence === 'admitted' || p.presence === 'reconnecting');
  const reconnecting = (p: ParticipantView) => p.presence === 'reconnecting' || flow.get(p.id) === 'stalled';
  const status = inCall.length === 0
    ? role === 'clinician' ? 'Nobody else is in the call yet.' : 'Waiting for your clinician to join.'
    : inCall.map((p) => (reconnecting(p) ? `${p.name} is reconnecting…` : `${p.name} is in the call.`)).join(' ');
  if (state === 'call') setText('call-status', status);
  for (const p of inCall) {
    const caption = document.querySelector(`#remote-${CSS.escape(p.id)} figcaption`);
    if (caption) caption.textContent = reconnecting(p) ? `${p.name} (reconnecting)` : p.name;
  }

  if (role !== 'clinician') return;
  const waiting = others.filter((p) => p.presence === 'waiting');
  el('waiting-panel').hidden = waiting.length === 0;
  // Rows are updated in place, never rebuilt: this runs on every presence and media change,
  // and rebuilding would drop the keyboard focus and whatever the clinician is typing to someone.
  const list = el('waiting-list');
  const focused = document.activeElement;
  const hadFocus = focused !== null && list.contains(focused);
  const ids = new Set(waiting.map((p) => p.id));
  for (const row of [...list.children] as HTMLElement[]) if (!ids.has(row.dataset.id ?? '')) row.remove();
  for (const p of waiting) {
    const row = [...list.children].find((r) => (r as HTMLElement).dataset.id === p.id) ?? list.appendChild(waitingRow(p));
    const since = p.waitingSince ? new Date(p.waitingSince).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
    (row.querySelector('.oc-waiting-who') as HTMLElement).textContent = `${p.name} is waiting${since ? ` since ${since}` : ''}.`;
  }
  // The row holding the focus went (the Admit button that was just used): keep the focus in the
  // call, at its heading, so the next Tab reaches the call's controls instead of the page's top.
  if (hadFocus && !focused.isConnected) el('call-title').focus({ preventScroll: true });
  document.title = waiting.length > 0 ? `(${waiting.length}) waiting – ${baseTitle}` : baseTitle;
}

/** Clinician: one person in the waiting room, with their Admit button and a message form. */
function waitingRow(p: ParticipantView): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.id = p.id;
  const label = document.createElement('span');
  label.className = 'oc-waiting-who';
  const admit = document.createElement('button');
  admit.type = 'button';
  admit.className = 'nhsuk-button nhsuk-button--small';
  admit.textContent = `Admit ${p.name}`;
  admit.addEventListener('click', () => {
    // aria-disabled, not disabled: a disabled button drops the keyboard focus to the page's top.
    if (admit.getAttribute('aria-disabled') === 'true') return;
    mark('admit');
    admittedAt = performance.now();
    admit.setAttribute('aria-disabled', 'true');
    if (socket) request(socket, 'admit', { id: p.id }).catch((err: Error) => {
      admit.removeAttribute('aria-disabled');
      setText('call-status', err.message);
    });
  });
  li.append(label, ' ', admit, waitingMessageForm(p));
  return li;
}

function renderRemote(tile: Tile, stream: MediaStream): void {
  let figure = find(`remote-${tile.id}`);
  if (!figure) {
    figure = document.createElement('figure');
    figure.id = `remote-${tile.id}`;
    figure.className = tile.screen ? 'oc-remote oc-screen' : 'oc-remote';
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    const caption = document.createElement('figcaption');
    const name = participants.get(tile.participantId)?.name ?? '';
    caption.textContent = tile.screen ? `${name}'s screen` : name;
    video.setAttribute('aria-label', `Video of ${caption.textContent || 'the other person'}`);
    // The first decoded video frame, where the browser can tell us (not Firefox ESR 115).
    if ('requestVideoFrameCallback' in video) {
      video.requestVideoFrameCallback(() => {
        mark('first-video-frame');
        reportFirstFrame();
      });
    }
    figure.append(video, caption);
    el('remotes').append(figure);
  }
  const video = figure.querySelector('video') as HTMLVideoElement;
  if (video.srcObject !== stream) video.srcObject = stream;
  video.play().catch(() => offerSoundButton(video));
}

/** Autoplay rules can block sound: one tap on a real button starts it. */
function offerSoundButton(video: HTMLVideoElement): void {
  if (document.getElementById('sound-button')) return;
  const b = document.createElement('button');
  b.id = 'sound-button';
  b.type = 'button';
  b.className = 'nhsuk-button';
  b.textContent = 'Tap to turn on sound';
  b.addEventListener('click', () => {
    void video.play();
    b.remove();
  });
  el('remotes').before(b);
}

function wireCallControls(): void {
  const mute = el('mute-button');
  const camera = el('camera-button');
  const waitingCamera = el('waiting-camera-button');
  const setCamera = (on: boolean) => {
    cameraOn = on;
    void call?.setCameraEnabled(cameraOn).catch(reportMediaError);
    for (const t of local?.getVideoTracks() ?? []) t.enabled = cameraOn;
    camera.setAttribute('aria-pressed', String(!cameraOn));
    camera.textContent = cameraOn ? 'Turn camera off' : 'Turn camera on';
    waitingCamera.setAttribute('aria-pressed', String(!cameraOn));
    waitingCamera.textContent = cameraOn ? 'Turn camera off while I wait' : 'Turn camera back on';
  };
  waitingCamera.addEventListener('click', () => setCamera(!cameraOn));
  for (const id of ['switch-camera', 'switch-check-camera']) el(id).addEventListener('click', () => void switchCamera());
  const share = el('share-button');
  share.hidden = role !== 'clinician' || !navigator.mediaDevices?.getDisplayMedia;
  share.addEventListener('click', () => void toggleShare());
  el('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void sendChat();
  });
  mute.addEventListener('click', () => {
    micOn = !micOn;
    void call?.setMicEnabled(micOn).catch(reportMediaError);
    mute.setAttribute('aria-pressed', String(!micOn));
    mute.textContent = micOn ? 'Mute microphone' : 'Unmute microphone';
  });
  camera.addEventListener('click', () => setCamera(!cameraOn));
  el('leave-button').addEventListener('click', () => {
    const s = socket;
    if (!s) return;
    request(s, 'leave', {}).catch(() => undefined).finally(() => {
      teardown();
      state = 'ended';
      setText('ended-title', 'You have left the consultation');
      setText('ended-message', 'To rejoin, reload this page.');
      show('ended');
    });
  });
  el('invite-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void invite();
  });
  el('copy-invite').addEventListener('click', () => {
    const link = el<HTMLInputElement>('invite-link');
    link.select();
    navigator.clipboard?.writeText(link.value).then(
      () => setText('invite-status', 'Link copied.'),
      () => setText('invite-status', 'Select the link and copy it.'),
    );
  });
  el('end-button').addEventListener('click', () => {
    if (socket) request(socket, 'end', {}).catch((err: Error) => setText('call-status', err.message));
  });
}

/** Front or back camera: a new track replaces the old one everywhere it is shown or sent. */
async function switchCamera(): Promise<void> {
  const next = facing === 'user' ? 'environment' : 'user';
  try {
    const fresh = await openCamera(next);
    const track = fresh.getVideoTracks()[0];
    if (!track || !local) return;
    for (const old of local.getVideoTracks()) {
      local.removeTrack(old);
      old.stop();
    }
    track.enabled = cameraOn;
    local.addTrack(track);
    await call?.replaceVideoTrack(track);
    facing = next;
    for (const id of ['check-video', 'self-video']) el<HTMLVideoElement>(id).srcObject = local;
  } catch {
    setText(state === 'check' ? 'check-status' : 'call-status', 'The other camera could not be started.');
  }
}

/** Clinician: share a screen or window (e.g. results or a leaflet), or stop sharing. */
async function toggleShare(): Promise<void> {
  const button = el('share-button');
  if (stopSharing) {
    await stopSharing();
    stopSharing = undefined;
    button.textContent = 'Share screen';
    button.setAttribute('aria-pressed', 'false');
    return;
  }
  try {
    const display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    const track = display.getVideoTracks()[0];
    if (!track || !call) return;
    stopSharing = await call.shareScreen(track);
    button.textContent = 'Stop sharing screen';
    button.setAttribute('aria-pressed', 'true');
    // The browser's own "Stop sharing" bar ends the track: follow it.
    track.addEventListener('ended', () => {
      if (stopSharing) void toggleShare();
    });
  } catch {
    setText('call-status', 'Screen sharing was cancelled or is not allowed.');
  }
}

async function sendChat(): Promise<void> {
  const input = el<HTMLInputElement>('chat-input');
  const text = input.value.trim();
  if (!text || !socket) return;
  try {
    await request(socket, 'chat', { text });
    input.value = '';
  } catch (err) {
    setText('call-status', (err as Error).message);
  }
}

function showChat(m: ChatMessage): void {
  const li = document.createElement('li');
  const from = document.createElement('span');
  from.className = 'oc-chat-from';
  from.textContent = `${m.fromId === selfId ? 'You' : m.from}: `;
  li.append(from, m.text);
  el('chat-log').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

/** Clinician: a short message to someone waiting, e.g. that the clinic is running late. */
function waitingMessageForm(p: ParticipantView): HTMLFormElement {
  const form = document.createElement('form');
  form.noValidate = true;
  const id = `waiting-message-${p.id}`;
  const label = document.createElement('label');
  label.className = 'nhsuk-label';
  label.htmlFor = id;
  label.textContent = `Message to ${p.name}`;
  const input = document.createElement('input');
  input.id = id;
  input.className = 'nhsuk-input';
  input.type = 'text';
  input.maxLength = 500;
  input.autocomplete = 'off';
  const send = document.createElement('button');
  send.type = 'submit';
  send.className = 'nhsuk-button nhsuk-button--secondary nhsuk-button--small';
  send.textContent = `Send message to ${p.name}`;
  form.append(label, input, send);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || !socket) return;
    request(socket, 'messageWaiting', { id: p.id, text }).then(
      () => {
        input.value = '';
        setText('call-status', `Message sent to ${p.name}.`);
      },
      (err: Error) => setText('call-status', err.message),
    );
  });
  return form;
}

/** Clinician: create a link for an interpreter, carer or colleague; text it if a number is given. */
async function invite(): Promise<void> {
  if (!socket) return;
  const label = el<HTMLSelectElement>('invite-label').value;
  const name = el<HTMLInputElement>('invite-name').value.trim();
  const phone = el<HTMLInputElement>('invite-phone').value.trim();
  setText('invite-error', '');
  try {
    const r = await request(socket, 'invite', { label, ...(name ? { name } : {}), ...(phone ? { phone } : {}) });
    el<HTMLInputElement>('invite-link').value = r.url;
    el('invite-result').hidden = false;
    const sent = {
      sent: 'The link was sent by text message.',
      failed: 'The text message could not be sent: copy the link instead.',
      unknown: 'We could not confirm the text message was sent: check with them, or copy the link.',
      not_sent: 'Copy the link and send it to them.',
    };
    setText('invite-status', sent[r.sms]);
  } catch (err) {
    setText('invite-error', (err as Error).message);
  }
}

function finish(reason: EndReason): void {
  if (state === 'ended') return;
  teardown();
  state = 'ended';
  setText('ended-title', 'The consultation has ended');
  setText('ended-message', endMessages[reason]);
  show('ended');
}

function fail(title: string, message: string): void {
  teardown();
  state = 'error';
  showError(title, message, '');
}

/** Nothing of the call stays: media stopped, transports and socket closed, videos emptied. */
function teardown(): void {
  stopMeter();
  void stopSharing?.();
  stopSharing = undefined;
  el('chat-log').replaceChildren();
  clearInterval(flowTimer);
  call?.close();
  call = undefined;
  socket?.off();
  socket?.disconnect();
  stopTracks(local);
  local = undefined;
  for (const v of document.querySelectorAll('video')) v.srcObject = null;
  el('remotes').replaceChildren();
  document.title = baseTitle;
}

/**
 * Tells the service how long the first picture took after admission (a metric for operators:
 * nothing personal, just milliseconds, the role and whether media went through TURN).
 */
function reportFirstFrame(): void {
  if (firstFrameReported || admittedAt === undefined || !call) return;
  firstFrameReported = true;
  const ms = Math.min(120_000, Math.max(0, Math.round(performance.now() - admittedAt)));
  void call.stats().then((s) => {
    const relayed = s.paths.some((p) => p.direction === 'recv' && p.localType === 'relay');
    return fetch('/api/v1/telemetry/first-frame', {
      method: 'POST', keepalive: true, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ms, role, relayed }),
    });
  }).catch(() => undefined);
}

function relayProblem(message: string): void {
  setText(state === 'waiting' ? 'waiting-status' : 'call-status', message);
  setText('call-notice', message);
}

function reportMediaError(err: unknown): void {
  const message = `There is a problem with the video connection: ${(err as Error).message}`;
  setText(state === 'waiting' ? 'waiting-status' : 'call-status', message);
}

// A new network (Wi-Fi to 4G): fresh ICE at once instead of waiting for the old path to time out.
window.addEventListener('online', () => call?.restartIce());

void main();
