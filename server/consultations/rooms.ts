/**
 * Who is present in each live consultation, and in what state. Pure in-memory domain state,
 * no I/O: a LiveConsultation (live.ts) moves people through its room; the HTTP API and the
 * metrics read the rooms.
 */
import { AppError } from '../errors.js';
import { movePresence, type Presence, type Role } from './participant.js';
import type { ConnectionKind } from '../../signalling/vocabulary.js';

export interface Member {
  readonly id: string;
  readonly role: Role;
  readonly name: string;
  presence: Presence;
  /** Once admitted, a participant who drops and comes back skips the waiting room. */
  admittedOnce: boolean;
  waitingSince?: number | undefined;
  socketId?: string | undefined;
  /** What their connection check found (server/media/probe.ts). */
  connection?: ConnectionKind | undefined;
}

export class Room {
  private readonly members = new Map<string, Member>();

  constructor(readonly consultationId: string) {}

  /** Adds (or finds) a member; presence starts at `checking`. */
  member(id: string, role: Role, name: string, admittedBefore = false): Member {
    let m = this.members.get(id);
    if (!m) {
      m = { id, role, name, presence: 'checking', admittedOnce: admittedBefore };
      this.members.set(id, m);
    }
    return m;
  }

  get(id: string): Member | undefined {
    return this.members.get(id);
  }

  list(): Member[] {
    return [...this.members.values()];
  }

  /** Where a member goes on joining: clinicians straight in, others wait unless admitted before. */
  join(id: string, socketId: string, now: number): Member {
    const m = this.require(id);
    const to: Presence = m.role === 'clinician' || m.admittedOnce ? 'admitted' : 'waiting';
    if (m.presence !== to) m.presence = movePresence(m.presence, to);
    if (to === 'admitted') m.admittedOnce = true;
    m.waitingSince = to === 'waiting' ? (m.waitingSince ?? now) : undefined;
    m.socketId = socketId;
    return m;
  }

  /** The member `id` if they are waiting; otherwise throws what admitting them would. */
  waiting(id: string): Member {
    const m = this.require(id);
    if (m.presence !== 'waiting') throw new AppError('invalid_state', 'That person is not in the waiting room.');
    return m;
  }

  admit(id: string): Member {
    const m = this.waiting(id);
    m.presence = movePresence(m.presence, 'admitted');
    m.admittedOnce = true;
    m.waitingSince = undefined;
    return m;
  }

  /** The member's connection dropped. */
  drop(id: string): Member {
    const m = this.require(id);
    if (m.presence === 'waiting' || m.presence === 'admitted') m.presence = movePresence(m.presence, 'reconnecting');
    m.socketId = undefined;
    return m;
  }

  leave(id: string): Member {
    const m = this.require(id);
    if (m.presence !== 'left' && m.presence !== 'checking') m.presence = movePresence(m.presence, 'left');
    m.socketId = undefined;
    m.waitingSince = undefined;
    return m;
  }

  /** Connected, or dropped and within the reconnect grace. */
  present(): Member[] {
    return this.list().filter((m) => m.presence === 'waiting' || m.presence === 'admitted' || m.presence === 'reconnecting');
  }

  admitted(): Member[] {
    return this.list().filter((m) => m.presence === 'admitted');
  }

  private require(id: string): Member {
    const m = this.members.get(id);
    if (!m) throw new AppError('participant_not_found', 'That person is not part of this consultation.');
    return m;
  }
}

export class Rooms {
  private readonly rooms = new Map<string, Room>();

  get(consultationId: string): Room {
    let r = this.rooms.get(consultationId);
    if (!r) {
      r = new Room(consultationId);
      this.rooms.set(consultationId, r);
    }
    return r;
  }

  find(consultationId: string): Room | undefined {
    return this.rooms.get(consultationId);
  }

  delete(consultationId: string): void {
    this.rooms.delete(consultationId);
  }
}
