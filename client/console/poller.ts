/**
 * Runs `tick` every `intervalMs`, one at a time (a slow answer is never overtaken by the next
 * request). `kick` asks for a tick now, e.g. right after the clinician created a consultation.
 */
export class Poller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private inFlight = false;
  private again = false;

  constructor(
    /** Must handle its own errors. */
    private readonly tick: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.kick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  kick(): void {
    if (!this.running) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.inFlight = true;
    this.tick().catch(() => undefined).finally(() => {
      this.inFlight = false;
      if (!this.running) return;
      if (this.again) {
        this.again = false;
        this.kick();
      } else {
        this.timer = setTimeout(() => this.kick(), this.intervalMs);
      }
    });
  }
}
