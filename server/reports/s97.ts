/**
 * The S97 weekly counts (online and video consultations) of one ISO week, derived from the audit
 * log alone: the `created` event offers a consultation, `status` events say whether a call was
 * held, how long it lasted and why one was not. A consultation counts in the week it was created
 * (offered), with whatever became of it since. Only counts leave here: no ids, names or numbers.
 *
 * Weeks run Monday 00:00 to Monday 00:00 in Europe/London, the clock the practice works by: a
 * week across a clocks change is 167 or 169 hours long. Intl gives the zone's offset, so no
 * time zone data of our own.
 */
import { AppError } from '../errors.js';
import type { AuditEvent, AuditStore } from '../store/store.js';

export const REPORT_TIME_ZONE = 'Europe/London';
export const ISO_WEEK_PATTERN = '^[0-9]{4}-W[0-9]{2}$';
export const s97Formats = ['json', 'csv'] as const;
export type S97Format = (typeof s97Formats)[number];

/** Call length bands, by their lower bound in minutes (each up to the next). */
const bands = [
  { key: 'callsUnder5Min', from: 0 },
  { key: 'calls5To10Min', from: 5 },
  { key: 'calls10To20Min', from: 10 },
  { key: 'calls20MinPlus', from: 20 },
] as const;

/** The counts of one practice, in the order of the CSV's columns. */
export const s97Counts = [
  'offered', 'held', 'notHeldLinkExpired', 'notHeldWaitingTimeout', 'notHeldEndedWithoutCall',
  /** Created, not yet held nor closed when the report was made. */
  'open',
  ...bands.map((b) => b.key),
  /** Held calls not yet ended: no duration yet. */
  'callsUnfinished',
] as const;
export type S97Counts = Record<(typeof s97Counts)[number], number>;

export interface S97Practice extends S97Counts {
  /** The practice's ODS code ('' when PRACTICE_ODS_CODE is unset); one row per practice. */
  odsCode: string;
}

export interface S97Report {
  week: string;
  timeZone: string;
  /** The week's bounds, ISO 8601 UTC. */
  from: string;
  to: string;
  practices: S97Practice[];
}

const DAY = 86_400_000;

/** The offset of `zone` from UTC at `t` (ms; Europe/London: 0 or 3_600_000). */
function zoneOffset(t: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(t);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(t / 1000) * 1000;
}

/** Midnight in `zone` of the calendar day that starts at `utcMidnight` in UTC. UK clocks change at 01:00 UTC, never at midnight. */
function zonedMidnight(utcMidnight: number, zone: string): number {
  return utcMidnight - zoneOffset(utcMidnight - zoneOffset(utcMidnight, zone), zone);
}

/** `2026-W48` → its bounds (epoch ms, Monday 00:00 to Monday 00:00 local), or `validation_failed`. */
export function isoWeekBounds(week: string, zone = REPORT_TIME_ZONE): { from: number; to: number } {
  const m = new RegExp(ISO_WEEK_PATTERN).exec(week);
  const year = Number(m?.[0].slice(0, 4));
  const n = Number(m?.[0].slice(6));
  // Week 1 is the week with 4 January in it.
  const jan4 = Date.UTC(year, 0, 4);
  const monday = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY + (n - 1) * 7 * DAY;
  // The week belongs to the year its Thursday is in (week 53 exists only in some years).
  if (!m || n < 1 || new Date(monday + 3 * DAY).getUTCFullYear() !== year) {
    throw new AppError('validation_failed', 'week must be an ISO week such as 2026-W48.');
  }
  return { from: zonedMidnight(monday, zone), to: zonedMidnight(monday + 7 * DAY, zone) };
}

function emptyCounts(): S97Counts {
  return Object.fromEntries(s97Counts.map((k) => [k, 0])) as S97Counts;
}

/** When the consultation moved to `to`, and why, from its status events. */
function moved(events: AuditEvent[], to: string): { at: number; reason: unknown } | undefined {
  const e = events.find((x) => x.type === 'status' && x.detail?.to === to);
  return e && { at: e.at, reason: e.detail?.reason };
}

/** Adds one consultation (its events, in order) to `counts`. */
function countConsultation(events: AuditEvent[], counts: S97Counts): void {
  counts.offered += 1;
  const call = moved(events, 'in_call');
  const ended = moved(events, 'ended');
  const expired = moved(events, 'expired');
  if (call) {
    counts.held += 1;
    if (!ended) {
      counts.callsUnfinished += 1;
      return;
    }
    const minutes = (ended.at - call.at) / 60_000;
    const band = [...bands].reverse().find((b) => minutes >= b.from) ?? bands[0];
    counts[band.key] += 1;
  } else if (expired) {
    counts[expired.reason === 'waiting_timeout' ? 'notHeldWaitingTimeout' : 'notHeldLinkExpired'] += 1;
  } else if (ended) {
    counts.notHeldEndedWithoutCall += 1;
  } else {
    counts.open += 1;
  }
}

/** The report of `week` from the audit log. */
/** One row per practice given, each counting only its own consultations. */
export async function s97Report(
  audit: Pick<AuditStore, 'eventsOfCreatedBetween'>, week: string, practices: readonly { id: string; odsCode: string }[],
): Promise<S97Report> {
  const { from, to } = isoWeekBounds(week);
  const rows = [];
  for (const practice of practices) {
    const byConsultation = new Map<string, AuditEvent[]>();
    for (const e of await audit.eventsOfCreatedBetween(from, to, practice.id)) {
      byConsultation.set(e.consultationId, [...(byConsultation.get(e.consultationId) ?? []), e]);
    }
    const counts = emptyCounts();
    for (const events of byConsultation.values()) countConsultation(events, counts);
    rows.push({ odsCode: practice.odsCode, ...counts });
  }
  return { week, timeZone: REPORT_TIME_ZONE, from: new Date(from).toISOString(), to: new Date(to).toISOString(), practices: rows };
}

const CSV_COLUMNS = ['week', 'from', 'to', 'odsCode', ...s97Counts] as const;

/** One header line, one line per practice. No field needs quoting: codes, times and numbers only. */
export function s97Csv(report: S97Report): string {
  const rows = report.practices.map((p) => {
    const row: Record<string, string | number> = { week: report.week, from: report.from, to: report.to, ...p };
    return CSV_COLUMNS.map((c) => String(row[c])).join(',');
  });
  return `${[CSV_COLUMNS.join(','), ...rows].join('\n')}\n`;
}

/** The report as `format` asks: the text and its content type. */
export function s97Output(report: S97Report, format: S97Format): { type: string; text: string } {
  return format === 'csv'
    ? { type: 'text/csv; charset=utf-8', text: s97Csv(report) }
    : { type: 'application/json; charset=utf-8', text: `${JSON.stringify(report, null, 2)}\n` };
}
