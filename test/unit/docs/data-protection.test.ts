/**
 * docs/data-protection.md is generated from the settings and the store's real schema, and what
 * it calls personal data is exactly what a consultation's rows hold of a person and what the
 * retention purge deletes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { columns, dataProtectionSummary, summaryPath } from '../../../scripts/data-protection.js';
import { hashCode, newCode } from '../../../server/auth/codes.js';
import { openDb } from '../../../server/store/db.js';
import { SqliteStore } from '../../../server/store/sqlite/store.js';
import { newIdentityRecord } from '../../../server/consultations/identity.js';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const person = { phone: '+447700900123', patient: 'Pat Example', clinician: 'Dr Who', guest: 'Gus Guest' };

describe('data protection summary', () => {
  it('is the file scripts/data-protection.ts writes (run it with --write)', () => {
    expect(readFileSync(summaryPath, 'utf8')).toBe(dataProtectionSummary());
  });

  it('calls personal data exactly the columns that hold a person\'s number or name, and the purge clears them all', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'openconsult-dpia-'));
    const db = openDb(path.join(dir, 'test.sqlite'));
    const store = new SqliteStore(db);
    try {
      const link = (participantId: string) => ({
        codeHash: hashCode(newCode()), consultationId: 'c1', participantId, expiresAt: T0 + 60_000, redeemedAt: null, revokedAt: null,
      });
      await store.createConsultation(
        { id: 'c1', practiceId: 'default', status: 'created', createdAt: T0, updatedAt: T0, expiresAt: T0 + 60_000, endedReason: null,
          patientPhone: person.phone, patientName: person.patient, clinicianName: person.clinician },
        [{ id: 'p1', consultationId: 'c1', role: 'patient', displayName: person.patient },
          { id: 'p2', consultationId: 'c1', role: 'clinician', displayName: person.clinician }],
        [link('p1'), link('p2')],
        // The identity check's hash of the date of birth (issue #18): personal, since so few dates can be tried.
        { identity: await newIdentityRecord('c1', '1956-03-09', T0) },
      );
      await store.addParticipant({ id: 'p3', consultationId: 'c1', role: 'guest', displayName: person.guest }, link('p3'), T0);
      expect(await store.setStatus('c1', 'created', 'expired', T0 + 1000, 'link_expired')).toBe(true);

      /** Each column ("table.column") holding any of the person's details. */
      const holding = () => {
        const found = new Set<string>();
        for (const key of Object.keys(columns)) {
          const [table, column] = key.split('.') as [string, string];
          for (const row of db.prepare<[], Record<string, unknown>>(`SELECT "${column}" AS v FROM "${table}"`).all()) {
            if (Object.values(person).some((p) => String(row.v ?? '').includes(p))) found.add(key);
            if (key === 'identity_checks.dob_hash' && row.v !== null) found.add(key);
          }
        }
        return [...found].sort();
      };
      const personal = Object.entries(columns).filter(([, c]) => c.kind === 'personal').map(([k]) => k).sort();
      expect(holding()).toEqual(personal);
      expect(await store.deletePersonalData(T0 + 10_000, T0 + 10_000)).toEqual(['c1']);
      expect(holding()).toEqual([]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
