/**
 * The call's controls: microphone, camera (also on the waiting screen), screen sharing for the
 * clinician, Leave, and End for the clinician. The person's choices live in LocalMedia, so they
 * survive a reconnection's new Call.
 */
import type { Role } from '../../signalling/events.js';
import type { Call } from '../call.js';
import { request, type SignalSocket } from '../signal.js';
import { el, setText } from './dom.js';
import type { LocalMedia } from './local.js';

export interface ControlsContext {
  socket: SignalSocket;
  role: Role;
  local: LocalMedia;
  call: () => Call | undefined;
  mediaError: (err: unknown) => void;
  /** The server has let them go (or did not answer): the page shows they left. */
  left: () => void;
}

export class Controls {
  private stopSharing: (() => Promise<void>) | undefined;

  constructor(private readonly ctx: ControlsContext) {
    const { socket, role, local } = ctx;
    const mute = el('mute-button');
    mute.addEventListener('click', () => {
      local.micOn = !local.micOn;
      void ctx.call()?.setMicEnabled(local.micOn).catch(ctx.mediaError);
      mute.setAttribute('aria-pressed', String(!local.micOn));
      name(mute, local.micOn ? ['', 'Mute', ' microphone'] : ['', 'Unmute', ' microphone']);
    });
    el('camera-button').addEventListener('click', () => this.setCamera(!local.cameraOn));
    el('waiting-camera-button').addEventListener('click', () => this.setCamera(!local.cameraOn));
    const share = el('share-button');
    share.hidden = role !== 'clinician' || !navigator.mediaDevices?.getDisplayMedia;
    share.addEventListener('click', () => void this.toggleShare());
    el('leave-button').addEventListener('click', () => {
      request(socket, 'leave', {}).catch(() => undefined).finally(ctx.left);
    });
    const end = el('end-button');
    end.hidden = role !== 'clinician';
    end.addEventListener('click', () => {
      request(socket, 'end', {}).catch((err: Error) => setText('call-status', err.message));
    });
  }

  /** At the end: a shared screen stops too. */
  stopShare(): void {
    void this.stopSharing?.();
    this.stopSharing = undefined;
  }

  private setCamera(on: boolean): void {
    void this.ctx.call()?.setCameraEnabled(on).catch(this.ctx.mediaError);
    this.ctx.local.setCameraOn(on);
    const camera = el('camera-button');
    const waitingCamera = el('waiting-camera-button');
    camera.setAttribute('aria-pressed', String(!on));
    name(camera, ['Turn ', 'camera', on ? ' off' : ' on']);
    waitingCamera.setAttribute('aria-pressed', String(!on));
    waitingCamera.textContent = on ? 'Turn camera off while I wait' : 'Turn camera back on';
  }

  /** Clinician: share a screen or window (e.g. results or a leaflet), or stop sharing. */
  private async toggleShare(): Promise<void> {
    const button = el('share-button');
    if (this.stopSharing) {
      await this.stopSharing();
      this.stopSharing = undefined;
      name(button, ['', 'Share', ' screen']);
      button.setAttribute('aria-pressed', 'false');
      return;
    }
    try {
      const display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      const track = display.getVideoTracks()[0];
      const call = this.ctx.call();
      if (!track || !call) return;
      this.stopSharing = await call.shareScreen(track);
      name(button, ['', 'Stop', ' sharing screen']);
      button.setAttribute('aria-pressed', 'true');
      // The browser's own "Stop sharing" bar ends the track: follow it.
      track.addEventListener('ended', () => {
        if (this.stopSharing) void this.toggleShare();
      });
    } catch {
      setText('call-status', 'Screen sharing was cancelled or is not allowed.');
    }
  }
}

/**
 * A call control's name (join.html): one word shown under its icon, the rest of the name for
 * screen readers only, so a narrow phone fits the whole row while the accessible name stays
 * "Mute microphone", "Turn camera off".
 */
type Words = [before: string, word: string, after: string];

function name(button: HTMLButtonElement, [before, word, after]: Words): void {
  const span = (className: string, text: string) => Object.assign(document.createElement('span'), { className, textContent: text });
  const parts = [span('oc-word', word)];
  if (before) parts.unshift(span('nhsuk-u-visually-hidden', before));
  if (after) parts.push(span('nhsuk-u-visually-hidden', after));
  button.querySelector('.oc-control-label')?.replaceChildren(...parts);
}
