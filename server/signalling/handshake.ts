/**
 * The handshake: the client names its consultation and brings that consultation's session
 * cookie; an ended consultation, or a session revoked since (a re-sent link, a removal), is
 * refused. Who is on the socket is fixed here (socket.data).
 */
import { parse as parseCookies } from 'cookie';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { SocketAuth } from '../../signalling/schemas.js';
import type { SessionTokens } from '../auth/session.js';
import type { Consultations } from '../consultations/service.js';
import { AppError } from '../errors.js';
import type { TypedSocket } from './handler.js';

const checkAuth = TypeCompiler.Compile(SocketAuth);

export async function authenticate(socket: TypedSocket, tokens: SessionTokens, consultations: Consultations): Promise<void> {
  if (!checkAuth.Check(socket.handshake.auth)) throw new AppError('unauthorized', 'Say which consultation to join.');
  const { consultationId } = socket.handshake.auth as { consultationId: string };
  const token = parseCookies(socket.handshake.headers.cookie ?? '')[tokens.cookies.name(consultationId)];
  if (!token) throw new AppError('unauthorized', 'Open the link from your message to join this consultation.');
  const session = tokens.verify(token);
  if (session.consultationId !== consultationId) throw new AppError('unauthorized', 'This session is for another consultation.');
  await consultations.checkSession(session); // open, and not revoked since it was issued
  socket.data = { consultationId, participantId: session.participantId, role: session.role };
}
