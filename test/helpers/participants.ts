/** A participant's side, over the real wire: redeem a one-time link, connect and join by socket.io. */
import { type Socket, io } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../signalling/events.js';
import { type TestServer, codeOf, linkIn } from './server.js';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Redeems a one-time link: the session cookie (`name=value`) and who it makes the browser. */
export async function redeem(server: TestServer, link: string): Promise<{ cookie: string; participantId: string; consultationId: string }> {
  const res = await fetch(`${server.url}/api/v1/links/${codeOf(link)}/redeem`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`redeeming answered ${res.status}`);
  const body = await res.json() as { participantId: string; consultationId: string };
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  if (!cookie) throw new Error('no session cookie');
  return { cookie, ...body };
}

/** The patient's link in the SMS of `consultationId`. */
export async function patientLink(server: TestServer, consultationId: string): Promise<string> {
  const sms = (await server.outbox()).filter((m) => m.consultationId === consultationId)[0];
  if (!sms) throw new Error('no SMS for the consultation');
  return linkIn(sms.body);
}

/** A socket.io connection naming `consultationId` with `cookie`; resolves once connected, rejects if refused. */
export async function connect(server: TestServer, consultationId: string, cookie: string, opened: ClientSocket[]): Promise<ClientSocket> {
  const s: ClientSocket = io(server.url, {
    auth: { consultationId }, extraHeaders: { cookie }, transports: ['websocket'], reconnection: false, forceNew: true,
  });
  opened.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });
  return s;
}

/** Connects and joins: the joined socket and what `join` answered. */
export async function joined(server: TestServer, consultationId: string, cookie: string, opened: ClientSocket[]) {
  const socket = await connect(server, consultationId, cookie, opened);
  const ack = await socket.timeout(5000).emitWithAck('join', {});
  if (!ack.ok) throw new Error(`join refused: ${ack.error.code}`);
  return { socket, info: ack.data };
}
