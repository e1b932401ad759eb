/**
 * One person's part in the consultation from the check step on: the connection and the call's
 * media, driving the screens after Join (built by the first script: screens.ts). It arrives with
 * the media chunk (media.ts), opened while the person still looks at the check step; nothing
 * happens on the server until `join`.
 */
import { expireDoneSessions } from '../api.js';
import type { EndReason, JoinInfo, MediaPathInfo, Role } from '../../signalling/events.js';
import { Call, type RemoteStats } from '../call.js';
import { noStats } from '../call/stats.js';
import { request } from '../signal.js';
import { mark } from '../timeline.js';
import type { CheckScreen } from './check.js';
import { Connection } from './connection.js';
import { setText, showError } from './dom.js';
import type { LocalMedia } from './local.js';
import type { ScreenFactory, Screens } from './screens.js';
import { QualityNotice } from './quality-notice.js';
import type { PageStates } from './state.js';
import { FirstFrame } from './telemetry.js';

/** What the page's first script hands over. */
export interface PageContext {
  page: PageStates;
  local: LocalMedia;
  check: CheckScreen;
  /** Builds the screens after Join (they come with the first script: see screens.ts). */
  screens: ScreenFactory;
  role: Role;
  consultationId: string;
}

export class Consultation {
  private readonly connection: Connection;
  private call: Call | undefined;
  private selfId = '';
  /** The server's latest word on the media path for this join (it can come before join's answer). */
  private path: MediaPathInfo = { path: 'sfu' };
  private readonly screens: Screens;
  private readonly firstFrame: FirstFrame;
  private readonly quality: QualityNotice;
  // A new network (Wi-Fi to 4G): fresh ICE at once instead of waiting for the old path to time out.
  private readonly online = () => this.call?.restartIce();
  private readonly mediaError = (err: unknown) => this.say(`There is a problem with the video connection: ${(err as Error).message}`);

  constructor(private readonly ctx: PageContext) {
    const { page } = ctx;
    this.firstFrame = new FirstFrame(ctx.role);
    this.quality = new QualityNotice(ctx.role);
    this.connection = new Connection(ctx.consultationId, {
      up: () => {
        if (!page.is('check')) void this.enter();
      },
      refused: (code, message) => {
        if (code === 'consultation_closed') this.finish('ended_by_api');
        else this.fail('You cannot join this consultation', message ?? 'Please open the link from your message again.');
      },
      lost: (why) => this.say(why === 'restart' ? 'The service is restarting. Reconnecting…' : 'Connection lost. Reconnecting…'),
      replaced: () => this.fail('You have been disconnected', 'This consultation may be open in another window. Reload this page to continue here.'),
      live: () => !page.is('ended', 'error', 'check'),
    });
    const s = this.connection.socket;
    this.screens = ctx.screens(s, {
      call: () => this.call,
      selfId: () => this.selfId,
      mediaError: this.mediaError,
      left: () => {
        if (!page.to('ended')) return;
        this.teardown();
        this.screens.ended.showLeft();
      },
      admit: (p) => {
        mark('admit');
        this.firstFrame.admitted();
        return request(s, 'admit', { id: p.id });
      },
      messageWaiting: (p, text) => request(s, 'messageWaiting', { id: p.id, text }),
      remove: (p) => request(s, 'remove', { participantId: p.id }),
      firstFrame: () => {
        const call = this.call;
        this.firstFrame.shown(call && (() => call.stats()));
      },
    });
    const { call: screen, chat } = this.screens;

    s.on('participant', (p) => screen.update(p, this.call));
    s.on('admitted', ({ producers }) => {
      mark('admitted');
      this.firstFrame.admitted();
      this.enterCall();
      void this.call?.consumeAll(producers).catch(this.mediaError);
    });
    s.on('newProducer', (p) => {
      mark(`newProducer:${p.kind}`);
      void this.call?.consume(p).catch(this.mediaError);
    });
    s.on('producerClosed', ({ producerId }) => this.call?.producerClosed(producerId));
    s.on('producerPaused', ({ producerId, paused }) => this.call?.producerPaused(producerId, paused));
    s.on('mediaPath', (p) => {
      this.path = p;
      this.call?.setPath(p);
    });
    s.on('p2pSignal', (m) => this.call?.p2pSignal(m));
    s.on('chat', (m) => chat.show(m));
    s.on('videoWeak', (e) => this.quality.videoWeak(e));
    s.on('practiceMessage', ({ text }) => this.screens.waiting.showPracticeMessage(text));
    s.on('consultationEnded', ({ reason }) => this.finish(reason));
    // Before the disconnection that follows: once the page shows this, that drop is not a fault.
    s.on('removed', () => {
      expireDoneSessions();
      this.fail('You are no longer in this consultation', 'The practice has closed your place in this consultation. Contact the practice if you still need to speak to them.');
    });
    s.on('callEndingSoon', ({ endsAt }) => {
      const at = new Date(endsAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      setText('call-notice', `This consultation will end at ${at}, when it reaches its time limit.`);
    });
    s.on('mediaReset', () => {
      mark('media-reset');
      // Our media server went away: a fresh connection and join set everything up again.
      this.say('Reconnecting the video…');
      this.call?.close();
      this.connection.renew();
    });
    window.addEventListener('online', this.online);
  }

  /** Join was pressed: join now if connected, else as soon as the connection is up. */
  join(): void {
    if (this.connection.connected) void this.enter();
  }

  stats(): Promise<RemoteStats> {
    return this.call?.stats() ?? Promise.resolve(noStats());
  }

  /** The call's video sender, for a camera switch. */
  sendVideoTrack(track: MediaStreamTrack): Promise<void> {
    return this.call?.replaceVideoTrack(track) ?? Promise.resolve();
  }

  /** Joins (or rejoins after a reconnect) and sets up media. */
  private async enter(): Promise<void> {
    const s = this.connection.socket;
    let info: JoinInfo;
    this.path = { path: 'sfu' };
    try {
      info = await request(s, 'join', {});
      mark('joined');
      this.firstFrame.joined(info.self.presence === 'admitted');
    } catch (err) {
      this.fail('You cannot join this consultation', (err as Error).message);
      return;
    }
    this.selfId = info.self.id;
    this.call?.close();
    const call = new Call(s, {
      onRemoteStream: (tile, stream) => this.screens.call.remoteStream(tile, stream),
      onRemoteTrackEnded: (tile, stream) => this.screens.call.remoteTrackEnded(tile, stream),
      // With relay-only media, a TURN refusal means no video at all: say so instead of a silent black screen.
      onRelayError: (code) => {
        if (info.iceTransportPolicy === 'relay' && (code === 401 || code === 403)) {
          this.relayProblem('The video connection was refused by the practice\'s relay server. Please tell the practice: they can call you instead.');
        } else if (info.iceTransportPolicy === 'relay' && code === 701) {
          this.relayProblem('We could not reach the practice\'s relay server for the video. Check your internet connection, or tell the practice.');
        }
      },
    });
    this.call = call;
    // Told during the join (it comes before the answer): applied once this call has started.
    const told = this.path as MediaPathInfo;
    if (told.path === 'p2p') call.setPath(told);
    this.screens.call.reset(info.participants);
    const { local } = this.ctx;
    const starting = (async () => {
      await call.start(info, local.stream);
      if (!local.micOn) await call.setMicEnabled(false);
      if (!local.cameraOn) await call.setCameraEnabled(false);
    })().catch(this.mediaError);
    if (info.self.presence === 'waiting') {
      // Their media gets ready while they wait (an Admit that comes first is served as soon as it
      // is: see Call.consume).
      if (this.ctx.page.to('waiting')) this.screens.waiting.showWaiting();
      await starting;
    } else {
      await starting;
      this.enterCall();
      await call.consumeAll(info.producers).catch(this.mediaError);
    }
  }

  private enterCall(): void {
    this.screens.call.show(this.ctx.local.stream, () => this.call);
    this.quality.watch(() => this.stats());
  }

  private finish(reason: EndReason): void {
    if (!this.ctx.page.to('ended')) return;
    this.teardown();
    this.screens.ended.showEnded(reason);
    expireDoneSessions();
  }

  private fail(title: string, message: string): void {
    if (!this.ctx.page.to('error')) return;
    this.teardown();
    showError(title, message, '');
  }

  /** Nothing of the call stays: media stopped, transports and socket closed, videos emptied. */
  private teardown(): void {
    this.ctx.check.stop();
    this.screens.controls.stopShare();
    this.screens.chat.clear();
    this.call?.close();
    this.call = undefined;
    this.connection.close();
    this.ctx.local.stop();
    this.screens.call.clear();
    this.quality.stop();
    window.removeEventListener('online', this.online);
  }

  /** A status line on whichever screen the person sees. */
  private say(text: string): void {
    setText(this.ctx.page.is('waiting') ? 'waiting-status' : 'call-status', text);
  }

  private relayProblem(message: string): void {
    this.say(message);
    setText('call-notice', message);
  }
}
