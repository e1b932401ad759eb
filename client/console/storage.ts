/**
 * What the console keeps in this tab's sessionStorage (gone when the tab closes): the API key,
 * the clinician links returned at creation (the list cannot return them: links are one-time and
 * stored hashed), and the clinician's name to prefill the form. Storage may be unavailable
 * (privacy modes): then nothing is remembered and nothing fails.
 */

const KEY = 'openconsult.console.apiKey';
const LINKS = 'openconsult.console.clinicianLinks';
const CLINICIAN = 'openconsult.console.clinicianName';

function read(name: string): string | null {
  try {
    return sessionStorage.getItem(name);
  } catch {
    return null;
  }
}

function write(name: string, value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(name);
    else sessionStorage.setItem(name, value);
  } catch {
    // Not remembered; the console still works for this page load.
  }
}

export const apiKey = {
  get: (): string | null => read(KEY),
  set: (value: string): void => write(KEY, value),
  clear: (): void => write(KEY, null),
};

function links(): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(read(LINKS) ?? '{}');
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export const clinicianLinks = {
  get: (id: string): string | undefined => {
    const url = links()[id];
    return typeof url === 'string' ? url : undefined;
  },
  set: (id: string, url: string): void => write(LINKS, JSON.stringify({ ...links(), [id]: url })),
  clear: (): void => write(LINKS, null),
};

export const clinicianName = {
  get: (): string => read(CLINICIAN) ?? '',
  set: (value: string): void => write(CLINICIAN, value || null),
};
