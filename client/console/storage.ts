/**
 * What the console keeps in this tab's sessionStorage (gone when the tab closes): which list the
 * person chose, theirs or everyone's. Storage may be unavailable (privacy modes): then nothing is
 * remembered and nothing fails. Nothing secret is kept here: the sign-in is an httpOnly cookie.
 */
import type { Owner } from './api.js';

const OWNER = 'openconsult.console.owner';

function read(name: string): string | null {
  try {
    return sessionStorage.getItem(name);
  } catch {
    return null;
  }
}

function write(name: string, value: string): void {
  try {
    sessionStorage.setItem(name, value);
  } catch {
    // Not remembered; the console still works for this page load.
  }
}

export const ownerChoice = {
  get: (): Owner | null => {
    const v = read(OWNER);
    return v === 'me' || v === 'everyone' ? v : null;
  },
  set: (value: Owner): void => write(OWNER, value),
};
