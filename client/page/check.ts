/**
 * The check screen: the self-view and the microphone meter, help when the browser refuses, and
 * the warning for in-app browsers. Its script is what a patient waits for: keep it small.
 */
import { inAppBrowser, openInBrowserHelp, permissionHelp } from '../browser-help.js';
import { MediaCheckError, meterMicrophone, videoInputCount } from '../local-media.js';
import { mark } from '../timeline.js';
import { el, setText } from './dom.js';
import type { LocalMedia } from './local.js';

export class CheckScreen {
  private stopMeter: () => void = () => undefined;

  constructor(private readonly local: LocalMedia) {
    el('retry-media').addEventListener('click', () => void this.run());
    const app = inAppBrowser(navigator.userAgent);
    if (app) {
      setText('inapp-help', openInBrowserHelp(navigator.userAgent, app));
      el('inapp-warning').hidden = false;
    }
  }

  /** Starts (or restarts) the camera and microphone and shows how they do; `started` is a request already made. */
  async run(started?: Promise<MediaStream>): Promise<void> {
    const status = el('check-status');
    const joinButton = el('join-button');
    el('retry-media').hidden = true;
    status.textContent = 'Starting your camera and microphone…';
    try {
      const stream = await this.local.open(started);
      mark('camera');
      el('check-video').srcObject = stream;
      this.stopMeter();
      const meter = el('mic-level');
      const meterBox = meter.parentElement as HTMLElement;
      this.stopMeter = meterMicrophone(stream, (level) => {
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
      this.local.stop();
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
        el('permission-help').open = true;
      }
      el('retry-media').hidden = false;
    }
    if (joinButton.disabled) mark('check-ready');
    joinButton.disabled = false;
  }

  /** The meter stops on Join (and at the end). */
  stop(): void {
    this.stopMeter();
  }
}
