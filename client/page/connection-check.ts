/**
 * The connection check on the check step: while the person looks at their camera, find out how
 * their media would reach the service, with a real ICE + DTLS connection to a short-lived
 * transport of the service's own (server/media/probe.ts), first directly (UDP, or TCP, to the
 * media ports), then, if that fails, only through the practice's TURN relay with its ephemeral
 * credentials. Each try is bounded; the check never holds Join up, and a check that cannot run
 * (rate-limited, an old link) says nothing. The result is said in plain words with what to do, and
 * reported so the clinician sees it beside the person's name. The link's code authenticates it
 * without being used up (server/http/probe.ts): the check runs before Join, where the advice helps.
 */
import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import type { ConnectionKind } from '../../signalling/vocabulary.js';
import type { ProbeReply } from '../../server/http/schemas.js';
import { connectionAdvice } from './connection-words.js';

/** How long each way (direct, relay) may take to connect: ICE on a working path takes well under a second. */
export const ATTEMPT_MS = 6_000;

async function send(method: 'POST' | 'DELETE', url: string, body?: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method, credentials: 'same-origin',
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`connection check: ${res.status}`);
  return res.status === 204 ? undefined : res.json();
}

/**
 * Whether a transport to the probe connects within ATTEMPT_MS, with these ICE servers and policy.
 * Rejects when the service refused its half of the handshake (the check could not run: that says
 * nothing of the network, e.g. in a region a request that reached another node).
 */
async function connects(device: Device, base: string, probe: ProbeReply, policy: RTCIceTransportPolicy): Promise<boolean> {
  const transport: types.Transport = device.createSendTransport({
    id: probe.id,
    iceParameters: probe.iceParameters as unknown as types.IceParameters,
    iceCandidates: probe.iceCandidates as unknown as types.IceCandidate[],
    dtlsParameters: probe.dtlsParameters as unknown as types.DtlsParameters,
    sctpParameters: probe.sctpParameters as unknown as types.SctpParameters,
    iceServers: policy === 'relay' ? probe.iceServers : [],
    iceTransportPolicy: policy,
  });
  let refused: unknown;
  transport.on('connect', ({ dtlsParameters }, done, fail) => {
    send('POST', `${base}/probe/${encodeURIComponent(probe.id)}/connect`, { dtlsParameters }).then(() => done(), (err: unknown) => {
      refused = err;
      fail(err as Error);
    });
  });
  // No data goes anywhere: the data channel only makes the browser connect.
  transport.on('producedata', (_params, done) => done({ id: crypto.randomUUID() }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connected = new Promise<boolean>((resolve) => {
    transport.on('connectionstatechange', (state) => {
      if (state === 'connected') resolve(true);
      if (state === 'failed' || state === 'closed') resolve(false);
    });
    timer = setTimeout(() => resolve(false), ATTEMPT_MS);
  });
  transport.produceData({ ordered: false, maxRetransmits: 0 }).catch(() => undefined);
  const ok = await connected;
  clearTimeout(timer);
  transport.close();
  send('DELETE', `${base}/probe/${encodeURIComponent(probe.id)}`).catch(() => undefined);
  if (!ok && refused !== undefined) throw refused;
  return ok;
}

/** Direct, else through the relay, else neither; undefined when the check could not run. */
export async function checkConnection(code: string): Promise<ConnectionKind | undefined> {
  const base = `/api/v1/links/${encodeURIComponent(code)}`;
  try {
    const direct = (await send('POST', `${base}/probe`)) as ProbeReply;
    const device = await Device.factory();
    await device.load({ routerRtpCapabilities: direct.routerRtpCapabilities as unknown as types.RtpCapabilities });
    if (await connects(device, base, direct, 'all')) return 'direct';
    if (direct.iceServers.length === 0) return 'none';
    const relayed = (await send('POST', `${base}/probe`)) as ProbeReply;
    return (await connects(device, base, relayed, 'relay')) ? 'relay' : 'none';
  } catch {
    return undefined;
  }
}

/**
 * Runs the check and shows its result below the check step's buttons (`#connection-check`, made
 * here so the page's markup stays as it is): below, so that its arrival never moves the Join
 * button from under a finger (or a test's click) on its way. Reports the result for the clinician.
 */
export async function showConnectionCheck(code: string): Promise<ConnectionKind | undefined> {
  let line = document.getElementById('connection-check');
  if (!line) {
    line = document.createElement('p');
    line.id = 'connection-check';
    line.className = 'nhsuk-body';
    line.setAttribute('role', 'status');
    document.getElementById('join-button')?.parentElement?.after(line);
  }
  line.textContent = 'Checking your connection…';
  line.dataset.kind = 'checking';
  const kind = await checkConnection(code);
  if (!kind) {
    line.remove();
    return undefined;
  }
  line.textContent = connectionAdvice[kind];
  line.dataset.kind = kind;
  send('POST', `/api/v1/links/${encodeURIComponent(code)}/connection`, { kind }).catch(() => undefined);
  return kind;
}
