/**
 * The load generator for the media capacity benchmark, in a process of its own so its CPU is
 * measured apart from the SFU's: synthetic two-party calls (synthetic/) against ours or bare.
 */
import { serveParent } from './lib/child.js';
import { type Call, type PeerKind, type PeerMediaFactory, bareCall, oursCall, replayPeers, wrtcPeers } from './synthetic/calls.js';
import { SyntheticSources, sumCounters } from './synthetic/media.js';
import { replayClock } from './synthetic/replay.js';

let sources: SyntheticSources | undefined;
let peers: PeerMediaFactory | undefined;
/** Which synthetic peers this process makes (set by `init`; wrtc unless asked otherwise). */
let peerKind: PeerKind = 'wrtc';
const calls: Call[] = [];
const byId = new Map<number, Call>();
let nextId = 0;

serveParent({
  /** `peers: 'replay'` makes replay peers (no camera or microphone); otherwise wrtc peers with the given camera. */
  init(args: { width: number; height: number; fps: number; activity: number; peers?: PeerKind }) {
    peerKind = args.peers ?? 'wrtc';
    if (peerKind === 'replay') {
      replayClock.start();
      peers = replayPeers;
    } else {
      sources ??= new SyntheticSources(args);
      sources.start();
      peers = wrtcPeers(sources);
    }
    return null;
  },

  /** Adds calls, a few at a time; `links` (ours) or `url` (bare) say where. */
  async add(args: { kind: 'ours' | 'bare'; url?: string; links?: { patientUrl: string; clinicianUrl: string }[]; count: number }) {
    const src = peers;
    if (!src) throw new Error('init first');
    const t0 = performance.now();
    let failed = 0;
    const errors: string[] = [];
    const ids: number[] = [];
    const jobs = Array.from({ length: args.count }, (_, i) => i);
    const parallel = 2;
    let next = 0;
    await Promise.all(Array.from({ length: parallel }, async () => {
      while (next < jobs.length) {
        const i = next++;
        try {
          const call = args.kind === 'ours'
            ? await oursCall(args.links?.[i] ?? (() => { throw new Error('no links'); })(), src)
            : await bareCall(args.url ?? '', src);
          calls.push(call);
          const id = ++nextId;
          byId.set(id, call);
          ids.push(id);
        } catch (err) {
          failed++;
          if (errors.length < 3) errors.push((err as Error).message);
        }
      }
    }));
    return { calls: calls.length, ids, failed, errors, ms: performance.now() - t0 };
  },

  async counters() {
    const sum = sumCounters(await Promise.all(calls.map((c) => c.counters())));
    // framesPushed: frames of the synthetic camera (wrtc) or frame slots the replay clock served on time (replay).
    return { ...sum, calls: calls.length, framesPushed: peerKind === 'replay' ? replayClock.frames : (sources?.framesPushed ?? 0) };
  },

  async closeAll() {
    for (const c of calls.splice(0)) await c.close();
    byId.clear();
    return null;
  },

  async close(args: { ids: number[] }) {
    for (const id of args.ids) {
      const c = byId.get(id);
      if (!c) continue;
      byId.delete(id);
      calls.splice(calls.indexOf(c), 1);
      await c.close();
    }
    return { calls: calls.length };
  },
}, async () => {
  for (const c of calls.splice(0)) await c.close().catch(() => undefined);
  sources?.stop();
  replayClock.stop();
});
