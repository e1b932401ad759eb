/** Milestones with their time since navigation (admission to first frame is what people feel). */
export const timeline: [string, number][] = [];

export function mark(label: string): void {
  timeline.push([label, Math.round(performance.now())]);
}
