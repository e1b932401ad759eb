/** Reading Prometheus text as tests do. */

/** The value of one sample line, e.g. sample(text, 'openconsult_consultations{status="waiting"}'); undefined if absent. */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
