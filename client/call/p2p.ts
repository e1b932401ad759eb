/**
 * The direct connection to the one other person in a call of two (issue #17): a plain
 * RTCPeerConnection carrying our camera and microphone both ways, negotiated by "perfect
 * negotiation" (the server names who is polite) over `p2pSignal`, relayed by the server. It knows
 * nothing of paths: call/path.ts decides when its media is shown.
 */
import type { IceServer, P2pSignal, P2pSignalPayload } from '../../signalling/events.js';

export type DirectSignal = Omit<P2pSignalPayload, 'to'>;

/** The direct connection's selected candidate pair (for tests and diagnostics). */
export interface DirectPair {
  localType: string;
  localAddress: string;
  remoteType: string;
  remoteAddress: string;
  relayProtocol?: string;
}

/** What arrives over the direct connection, cumulative. */
export interface DirectCounts {
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
  videoLost: number;
  videoPackets: number;
  /** As the browser reports it for the video received now. */
  framesPerSecond: number;
  audioPackets: number;
  audioLost: number;
  /** Whether the other side sends video here at all (no camera: audio only). */
  hasVideo: boolean;
}

export interface DirectOptions {
  polite: boolean;
  iceServers: IceServer[];
  iceTransportPolicy: 'all' | 'relay';
}

export class DirectLink {
  private readonly pc: RTCPeerConnection;
  private makingOffer = false;
  private ignoreOffer = false;
  private readonly remote = new Map<'audio' | 'video', MediaStreamTrack>();
  private videoSender: RTCRtpSender | undefined;
  private readonly local: { audio?: MediaStreamTrack | null | undefined; video?: MediaStreamTrack | null | undefined };
  private attached = false;

  constructor(
    private readonly options: DirectOptions,
    local: { audio?: MediaStreamTrack | null | undefined; video?: MediaStreamTrack | null | undefined },
    private readonly send: (m: DirectSignal) => void,
    onState: (state: RTCPeerConnectionState) => void,
  ) {
    this.pc = new RTCPeerConnection({ iceServers: options.iceServers, iceTransportPolicy: options.iceTransportPolicy });
    // The impolite side offers; the polite one sends its tracks in its answer (attach). Both
    // offering at once is resolved by perfect negotiation, but Chromium then lost the polite side's
    // candidates after its rollback now and then: one offer is the rule, glare the exception.
    this.local = local;
    if (!options.polite) this.attach();
    this.pc.ontrack = ({ track }) => this.remote.set(track.kind as 'audio' | 'video', track);
    this.pc.onicecandidate = ({ candidate }) => {
      if (candidate?.candidate) this.send({ candidate: candidate.toJSON() as DirectSignal['candidate'] });
    };
    this.pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await this.pc.setLocalDescription();
        this.sendDescription();
      } catch {
        // closed meanwhile, or a collision the peer resolves
      } finally {
        this.makingOffer = false;
      }
    };
    this.pc.onconnectionstatechange = () => onState(this.pc.connectionState);
  }

  get state(): RTCPeerConnectionState {
    return this.pc.connectionState;
  }

  /** A description or candidate from the peer (perfect negotiation: the impolite side wins a collision). */
  async receive(m: P2pSignal): Promise<void> {
    if (this.pc.signalingState === 'closed') return;
    if (m.description) {
      const offer = m.description.type === 'offer';
      const collision = offer && (this.makingOffer || this.pc.signalingState !== 'stable');
      this.ignoreOffer = !this.options.polite && collision;
      if (this.ignoreOffer) return;
      await this.pc.setRemoteDescription(m.description);
      if (offer) {
        this.attach();
        await this.pc.setLocalDescription();
        this.sendDescription();
      }
    } else if (m.candidate) {
      try {
        await this.pc.addIceCandidate(m.candidate);
      } catch (err) {
        if (!this.ignoreOffer) throw err;
      }
    }
  }

  /** The other side's tracks received here. */
  track(kind: 'audio' | 'video'): MediaStreamTrack | undefined {
    return this.remote.get(kind);
  }

  /** A camera switch: the sender keeps going with the new track. */
  async replaceVideoTrack(track: MediaStreamTrack): Promise<void> {
    await this.videoSender?.replaceTrack(track);
  }

  /** New ICE credentials (a network change): negotiated again by whoever's turn it is. */
  restartIce(): void {
    if (this.pc.signalingState !== 'closed') this.pc.restartIce();
  }

  async counts(): Promise<DirectCounts> {
    const out: DirectCounts = {
      framesDecoded: 0, frameWidth: 0, frameHeight: 0, videoLost: 0, videoPackets: 0, framesPerSecond: 0, audioPackets: 0, audioLost: 0, hasVideo: false,
    };
    if (this.pc.signalingState === 'closed') return out;
    const report = await this.pc.getStats();
    report.forEach((s: Record<string, unknown>) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') {
        out.hasVideo = true;
        out.framesDecoded += Number(s.framesDecoded ?? 0);
        out.frameWidth = Number(s.frameWidth ?? 0);
        out.frameHeight = Number(s.frameHeight ?? 0);
        out.videoLost += Number(s.packetsLost ?? 0);
        out.videoPackets += Number(s.packetsReceived ?? 0);
        out.framesPerSecond = Number(s.framesPerSecond ?? 0);
      } else if (s.kind === 'audio') {
        out.audioPackets += Number(s.packetsReceived ?? 0);
        out.audioLost += Number(s.packetsLost ?? 0);
      }
    });
    return out;
  }

  /** What a flow monitor reads: inbound RTP of one kind, as a consumer's getStats would give it. */
  async statsOf(kind: 'audio' | 'video'): Promise<RTCStatsReport | Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    if (this.pc.signalingState === 'closed') return out;
    (await this.pc.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp' && s.kind === kind) out.set(String(s.id), s);
    });
    return out;
  }

  async selectedPair(): Promise<DirectPair | undefined> {
    if (this.pc.signalingState === 'closed') return undefined;
    const report = await this.pc.getStats();
    const all = new Map<string, Record<string, unknown>>();
    report.forEach((s: Record<string, unknown>) => all.set(String(s.id), s));
    const transport = [...all.values()].find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = transport
      ? all.get(String(transport.selectedCandidatePairId))
      : [...all.values()].find((s) => s.type === 'candidate-pair' && s.selected === true); // Firefox
    const local = pair ? all.get(String(pair.localCandidateId)) : undefined;
    const remote = pair ? all.get(String(pair.remoteCandidateId)) : undefined;
    if (!local || !remote || pair?.state !== 'succeeded') return undefined;
    return {
      localType: String(local.candidateType), localAddress: String(local.address ?? local.ip ?? ''),
      remoteType: String(remote.candidateType), remoteAddress: String(remote.address ?? remote.ip ?? ''),
      ...(local.relayProtocol ? { relayProtocol: String(local.relayProtocol) } : {}),
    };
  }

  close(): void {
    this.pc.onconnectionstatechange = null;
    this.pc.onnegotiationneeded = null;
    this.pc.onicecandidate = null;
    this.pc.close();
  }

  /** Our camera and mic on the connection: new senders, or the transceivers the peer's offer made. */
  private attach(): void {
    if (this.attached) return;
    this.attached = true;
    const stream = new MediaStream();
    for (const kind of ['audio', 'video'] as const) {
      const track = this.local[kind];
      if (!track) continue;
      const offered = this.pc.getTransceivers().find((t) => t.receiver.track.kind === kind && !t.sender.track && t.mid !== null);
      let sender: RTCRtpSender;
      if (offered) {
        offered.direction = 'sendrecv';
        void offered.sender.replaceTrack(track);
        offered.sender.setStreams?.(stream);
        sender = offered.sender;
      } else {
        sender = this.pc.addTrack(track, stream);
      }
      if (kind === 'video') this.videoSender = sender;
    }
  }

  private sendDescription(): void {
    const d = this.pc.localDescription;
    if (d) this.send({ description: { type: d.type as 'offer' | 'answer' | 'rollback', sdp: d.sdp } });
  }
}
