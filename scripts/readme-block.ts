/** Replaces a generated block of README.md (the markers included in `block`) between its markers. */
export function replaceBlock(readme: string, start: string, end: string, block: string): string {
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${start} ... ${end} markers`);
  return readme.slice(0, a) + block + readme.slice(b + end.length);
}
