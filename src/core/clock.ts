/** The time as the services see it; tests move it forward instead of sleeping. */
export class Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Test hook: pretend `ms` have passed. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
