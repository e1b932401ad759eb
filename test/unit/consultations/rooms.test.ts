import { describe, expect, it } from 'vitest';
import { Room, Rooms } from '../../../server/consultations/rooms.js';
import { AppError } from '../../../server/errors.js';

function codeOfThrown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return (err as AppError).code;
  }
  throw new Error('expected an AppError');
}

function roomWithPatientAndClinician(): Room {
  const room = new Room('c1');
  room.member('pat', 'patient', 'Pat');
  room.member('doc', 'clinician', 'Dr Who');
  return room;
}

describe('Room', () => {
  it('starts each member at checking, and finds the same member again', () => {
    const room = new Room('c1');
    const m = room.member('pat', 'patient', 'Pat');
    expect(m.presence).toBe('checking');
    expect(room.member('pat', 'patient', 'Someone else')).toBe(m);
    expect(room.list()).toHaveLength(1);
  });

  it('admits a clinician straight into the call on joining', () => {
    const room = roomWithPatientAndClinician();
    const doc = room.join('doc', 'sock-doc', 1000);
    expect(doc.presence).toBe('admitted');
    expect(doc.admittedOnce).toBe(true);
    expect(doc.waitingSince).toBeUndefined();
    expect(doc.socketId).toBe('sock-doc');
  });

  it('puts a joining patient in the waiting room, noting since when', () => {
    const room = roomWithPatientAndClinician();
    const pat = room.join('pat', 'sock-pat', 1000);
    expect(pat.presence).toBe('waiting');
    expect(pat.waitingSince).toBe(1000);
    expect(room.admitted()).toEqual([]);
  });

  it('moves a waiting patient into the call on admission', () => {
    const room = roomWithPatientAndClinician();
    room.join('pat', 'sock-pat', 1000);
    const pat = room.admit('pat');
    expect(pat.presence).toBe('admitted');
    expect(pat.admittedOnce).toBe(true);
    expect(pat.waitingSince).toBeUndefined();
    expect(room.admitted().map((m) => m.id)).toEqual(['pat']);
  });

  it('refuses to admit someone who is not waiting', () => {
    const room = roomWithPatientAndClinician();
    expect(codeOfThrown(() => room.admit('pat'))).toBe('invalid_state'); // still checking
    room.join('doc', 'sock-doc', 1000);
    expect(codeOfThrown(() => room.admit('doc'))).toBe('invalid_state'); // already admitted
    room.join('pat', 'sock-pat', 1000);
    room.admit('pat');
    expect(codeOfThrown(() => room.admit('pat'))).toBe('invalid_state'); // admitted twice
  });

  it('refuses to admit someone who is not part of the consultation', () => {
    const room = roomWithPatientAndClinician();
    expect(codeOfThrown(() => room.admit('stranger'))).toBe('participant_not_found');
    expect(codeOfThrown(() => room.join('stranger', 's', 1))).toBe('participant_not_found');
  });

  it('marks a member whose connection drops as reconnecting, not gone', () => {
    const room = roomWithPatientAndClinician();
    room.join('pat', 'sock-pat', 1000);
    const dropped = room.drop('pat');
    expect(dropped.presence).toBe('reconnecting');
    expect(dropped.socketId).toBeUndefined();
    room.join('doc', 'sock-doc', 1000);
    expect(room.drop('doc').presence).toBe('reconnecting');
  });

  it('lets a previously admitted patient who drops rejoin straight into the call', () => {
    const room = roomWithPatientAndClinician();
    room.join('pat', 'sock-1', 1000);
    room.admit('pat');
    room.drop('pat');
    const back = room.join('pat', 'sock-2', 5000);
    expect(back.presence).toBe('admitted');
    expect(back.socketId).toBe('sock-2');
    expect(back.waitingSince).toBeUndefined();
  });

  it('lets an admitted patient who left come back without a new admission', () => {
    const room = roomWithPatientAndClinician();
    room.join('pat', 'sock-1', 1000);
    room.admit('pat');
    expect(room.leave('pat').presence).toBe('left');
    expect(room.join('pat', 'sock-2', 5000).presence).toBe('admitted');
  });

  it('sends a never-admitted patient who drops back to the waiting room, keeping their place', () => {
    const room = roomWithPatientAndClinician();
    room.join('pat', 'sock-1', 1000);
    room.drop('pat');
    const back = room.join('pat', 'sock-2', 9000);
    expect(back.presence).toBe('waiting');
    expect(back.waitingSince).toBe(1000);
  });
});

describe('Rooms', () => {
  it('creates a room on first use, returns the same one after, and forgets it on delete', () => {
    const rooms = new Rooms();
    expect(rooms.find('c1')).toBeUndefined();
    const r = rooms.get('c1');
    expect(rooms.get('c1')).toBe(r);
    expect(rooms.find('c1')).toBe(r);
    rooms.delete('c1');
    expect(rooms.find('c1')).toBeUndefined();
  });
});
