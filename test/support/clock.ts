import type { Clock } from "../../src/core/ports.ts";

/** A clock the test moves by hand (house rule 11: time is injected); `t` is its time in ms. */
export class ManualClock implements Clock {
  constructor(public t: number = Date.parse("2026-11-21T08:00:00Z")) {}
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
