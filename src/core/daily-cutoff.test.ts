/**
 * The daily cut-off (D5: Firstock sessions end daily, by default at 23:59 in Asia/Kolkata):
 * nextCutoff before, at and after the cut-off, across midnight, and across both daylight-saving
 * transitions of a zone that has them; validateCutoff; and the configuration keys that feed it
 * (`session.doors.firstock.daily_cutoff`, `.timezone`, `firstock.vendors`), which stop start-up
 * naming the key when wrong.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, loadConfig } from "../config/load.ts";
import { type DailyCutoff, nextCutoff, validateCutoff } from "./daily-cutoff.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const KOLKATA: DailyCutoff = { time: "23:59", timeZone: "Asia/Kolkata" };

const at = (iso: string) => new Date(iso);

const formats = new Map<string, Intl.DateTimeFormat>();
/** "HH:MM" of an instant on the wall clock of a zone. */
function wallTime(instant: Date, timeZone: string): string {
  let format = formats.get(timeZone);
  if (!format) formats.set(timeZone, (format = new Intl.DateTimeFormat("en-GB", { timeZone, hourCycle: "h23", hour: "2-digit", minute: "2-digit" })));
  return format.format(instant);
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

describe("nextCutoff in Asia/Kolkata (UTC+05:30, no DST): 23:59 IST is 18:29 UTC", () => {
  test("before the cut-off: the same day's 18:29 UTC", () => {
    assert.equal(nextCutoff(at("2026-11-21T18:00:00Z"), KOLKATA).toISOString(), "2026-11-21T18:29:00.000Z");
    assert.equal(nextCutoff(at("2026-11-21T18:28:59.999Z"), KOLKATA).toISOString(), "2026-11-21T18:29:00.000Z");
    assert.equal(nextCutoff(at("2026-11-21T00:00:00Z"), KOLKATA).toISOString(), "2026-11-21T18:29:00.000Z");
    // 18:31 UTC on the 20th is already 00:01 IST on the 21st.
    assert.equal(nextCutoff(at("2026-11-20T18:31:00Z"), KOLKATA).toISOString(), "2026-11-21T18:29:00.000Z");
  });

  test("at the cut-off: strictly after now, so the next day's", () => {
    assert.equal(nextCutoff(at("2026-11-21T18:29:00Z"), KOLKATA).toISOString(), "2026-11-22T18:29:00.000Z");
  });

  test("after the cut-off: the next day's, across a month and a year boundary", () => {
    assert.equal(nextCutoff(at("2026-11-21T18:29:00.001Z"), KOLKATA).toISOString(), "2026-11-22T18:29:00.000Z");
    assert.equal(nextCutoff(at("2026-11-30T18:30:00Z"), KOLKATA).toISOString(), "2026-12-01T18:29:00.000Z");
    assert.equal(nextCutoff(at("2026-12-31T18:29:30Z"), KOLKATA).toISOString(), "2027-01-01T18:29:00.000Z");
    assert.equal(nextCutoff(at("2028-02-28T20:00:00Z"), KOLKATA).toISOString(), "2028-02-29T18:29:00.000Z");
  });

  test("other times of day, including midnight", () => {
    assert.equal(nextCutoff(at("2026-11-21T18:00:00Z"), { time: "00:00", timeZone: "Asia/Kolkata" }).toISOString(), "2026-11-21T18:30:00.000Z");
    assert.equal(nextCutoff(at("2026-11-21T03:00:00Z"), { time: "09:15", timeZone: "Asia/Kolkata" }).toISOString(), "2026-11-21T03:45:00.000Z");
    assert.equal(nextCutoff(at("2026-11-21T04:00:00Z"), { time: "09:15", timeZone: "Asia/Kolkata" }).toISOString(), "2026-11-22T03:45:00.000Z");
  });

  test("every quarter hour of a week: strictly after now, at most 24 h ahead, always 23:59 on the Kolkata clock", () => {
    for (let t = Date.parse("2026-11-18T00:00:00Z"); t < Date.parse("2026-11-25T00:00:00Z"); t += 15 * MINUTE) {
      const next = nextCutoff(new Date(t), KOLKATA);
      assert.ok(next.getTime() > t && next.getTime() - t <= 24 * HOUR, `${new Date(t).toISOString()} → ${next.toISOString()}`);
      assert.equal(wallTime(next, "Asia/Kolkata"), "23:59");
      assert.equal(next.getUTCSeconds(), 0);
      assert.equal(next.getUTCMilliseconds(), 0);
    }
  });
});

describe("nextCutoff in a DST zone (America/New_York; 2026: spring forward 8 March 02:00, fall back 1 November 02:00)", () => {
  const NY = "America/New_York";

  test("23:59 on the days around both transitions lands on 23:59 local, in EST or EDT as the day is", () => {
    const c: DailyCutoff = { time: "23:59", timeZone: NY };
    assert.equal(nextCutoff(at("2026-03-07T12:00:00Z"), c).toISOString(), "2026-03-08T04:59:00.000Z"); // 7 March, EST
    assert.equal(nextCutoff(at("2026-03-08T12:00:00Z"), c).toISOString(), "2026-03-09T03:59:00.000Z"); // 8 March, EDT
    assert.equal(nextCutoff(at("2026-10-31T12:00:00Z"), c).toISOString(), "2026-11-01T03:59:00.000Z"); // 31 October, EDT
    assert.equal(nextCutoff(at("2026-11-01T12:00:00Z"), c).toISOString(), "2026-11-02T04:59:00.000Z"); // 1 November, EST
  });

  test("a time on the far side of a transition the same night is reached in the right offset", () => {
    // 03:00 on 8 March is EDT (07:00 UTC); 03:00 on 1 November is EST (08:00 UTC).
    assert.equal(nextCutoff(at("2026-03-08T05:30:00Z"), { time: "03:00", timeZone: NY }).toISOString(), "2026-03-08T07:00:00.000Z");
    assert.equal(nextCutoff(at("2026-11-01T04:30:00Z"), { time: "03:00", timeZone: NY }).toISOString(), "2026-11-01T08:00:00.000Z");
    // 01:30 on 1 November happens twice; the cut-off is the first (EDT, 05:30 UTC).
    assert.equal(nextCutoff(at("2026-11-01T04:30:00Z"), { time: "01:30", timeZone: NY }).toISOString(), "2026-11-01T05:30:00.000Z");
  });

  for (const time of ["00:00", "01:30", "02:00", "02:30", "03:00", "12:00", "23:59"]) {
    test(`${time} every half hour from two days before to two days after each transition: after now, within 25 h, no day skipped`, () => {
      const cutoff: DailyCutoff = { time, timeZone: NY };
      for (const [from, to] of [
        ["2026-03-06T00:00:00Z", "2026-03-10T00:00:00Z"],
        ["2026-10-30T00:00:00Z", "2026-11-03T00:00:00Z"],
      ] as const) {
        let previous = 0;
        for (let t = Date.parse(from); t < Date.parse(to); t += 30 * MINUTE) {
          const next = nextCutoff(new Date(t), cutoff).getTime();
          const label = `${new Date(t).toISOString()} → ${new Date(next).toISOString()}`;
          assert.ok(next > t, `not after now: ${label}`);
          assert.ok(next - t <= 25 * HOUR, `more than 25 h ahead: ${label}`);
          assert.ok(next >= previous, `went backwards: ${label}`);
          // Self-consistent: just before the answer, the answer is still the next cut-off.
          assert.equal(nextCutoff(new Date(next - 1), cutoff).getTime(), next, `unstable: ${label}`);
          // On the wall clock it is the configured time, or (for a time in the spring-forward gap)
          // within the hour the clocks skipped.
          const drift = Math.abs(minutesOf(wallTime(new Date(next), NY)) - minutesOf(time));
          assert.ok(drift === 0 || (drift <= 60 && time >= "02:00" && time < "03:00"), `wall clock ${wallTime(new Date(next), NY)}: ${label}`);
          previous = next;
        }
      }
    });
  }
});

describe("nextCutoff elsewhere", () => {
  test("UTC, and a zone across the date line (Pacific/Kiritimati, UTC+14)", () => {
    assert.equal(nextCutoff(at("2026-11-21T16:00:00Z"), { time: "17:00", timeZone: "UTC" }).toISOString(), "2026-11-21T17:00:00.000Z");
    assert.equal(nextCutoff(at("2026-11-21T17:00:00Z"), { time: "17:00", timeZone: "UTC" }).toISOString(), "2026-11-22T17:00:00.000Z");
    // 23:59 on Kiritimati is 09:59 UTC the same calendar day.
    const kiri: DailyCutoff = { time: "23:59", timeZone: "Pacific/Kiritimati" };
    assert.equal(nextCutoff(at("2026-11-21T09:00:00Z"), kiri).toISOString(), "2026-11-21T09:59:00.000Z");
    assert.equal(nextCutoff(at("2026-11-21T10:00:00Z"), kiri).toISOString(), "2026-11-22T09:59:00.000Z");
  });
});

describe("validateCutoff", () => {
  test("accepts HH:MM from 00:00 to 23:59 and IANA zones", () => {
    for (const time of ["00:00", "09:15", "12:00", "23:59"]) validateCutoff({ time, timeZone: "Asia/Kolkata" });
    for (const timeZone of ["Asia/Kolkata", "America/New_York", "UTC", "Europe/London", "Pacific/Kiritimati"]) validateCutoff({ time: "23:59", timeZone });
  });

  test("refuses what is not a 24-hour HH:MM, naming the value", () => {
    for (const time of ["24:00", "23:60", "7:00", "07:5", "0700", "23:59:00", "", " 23:59", "23:59 ", "ab:cd", "-1:00", "11:59pm", "２３:５９"]) {
      assert.throws(() => validateCutoff({ time, timeZone: "Asia/Kolkata" }), (e: Error) => e.message.includes(JSON.stringify(time)), `time ${JSON.stringify(time)}`);
    }
  });

  test("refuses what is not a time zone, naming the value", () => {
    for (const timeZone of ["", "Mars/Olympus", "Asia/Kolkatta", "Europe/", "../../etc/passwd", "Asia/Kolkata "]) {
      assert.throws(() => validateCutoff({ time: "23:59", timeZone }), (e: Error) => e.message.includes(JSON.stringify(timeZone)), `zone ${JSON.stringify(timeZone)}`);
    }
  });
});

describe("configuration: firstock.vendors and the Firstock cut-off", () => {
  /** ConfigError's problems, or a failure when loading succeeded. */
  function problemsOf(options: Parameters<typeof loadConfig>[0]): string[] {
    try {
      loadConfig(options);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems;
    }
    assert.fail("the configuration was accepted");
  }

  test("defaults: Firstock sessions end at 23:59 Asia/Kolkata; other doors have no daily cut-off; no vendors", () => {
    const config = loadConfig({ env: {} });
    assert.deepEqual(config.core.sessions.firstock.dailyCutoff, { time: "23:59", timeZone: "Asia/Kolkata" });
    for (const door of ["kratos", "oidc", "assets"] as const) assert.equal(config.core.sessions[door].dailyCutoff, undefined);
    assert.deepEqual(config.firstock.vendors, []);
  });

  test("CURFEW_FIRSTOCK_VENDORS=V1:K1,V2:K2 parses into two vendor pairs (an API key may contain a colon)", () => {
    const config = loadConfig({ env: { CURFEW_FIRSTOCK_VENDORS: "V1:K1,V2:K2" } });
    assert.deepEqual(config.firstock.vendors, [
      { vendorCode: "V1", apiKey: "K1" },
      { vendorCode: "V2", apiKey: "K2" },
    ]);
    const spaced = loadConfig({ env: { CURFEW_FIRSTOCK_VENDORS: " AA0013_API:k:e:y , V2:K2 " } });
    assert.deepEqual(spaced.firstock.vendors, [
      { vendorCode: "AA0013_API", apiKey: "k:e:y" },
      { vendorCode: "V2", apiKey: "K2" },
    ]);
  });

  test("a vendor entry without a code, a key or a colon stops start-up naming firstock.vendors", () => {
    for (const value of ["V1", "V1:", ":K1", "V1:K1,V2"]) {
      const problems = problemsOf({ env: { CURFEW_FIRSTOCK_VENDORS: value } });
      assert.ok(problems.some((p) => p.startsWith("firstock.vendors")), `${value}: ${problems.join("; ")}`);
    }
  });

  test("the cut-off and its zone can be set from the environment; an empty cut-off turns it off", () => {
    const config = loadConfig({
      env: { CURFEW_SESSION__DOORS__FIRSTOCK__DAILY_CUTOFF: "15:30", CURFEW_SESSION__DOORS__FIRSTOCK__TIMEZONE: "America/New_York" },
    });
    assert.deepEqual(config.core.sessions.firstock.dailyCutoff, { time: "15:30", timeZone: "America/New_York" });
    const off = loadConfig({ env: { CURFEW_SESSION__DOORS__FIRSTOCK__DAILY_CUTOFF: "" } });
    assert.equal(off.core.sessions.firstock.dailyCutoff, undefined);
  });

  test("a bad daily_cutoff stops start-up naming session.doors.firstock.daily_cutoff (and the variable it came from)", () => {
    const fromEnv = problemsOf({ env: { CURFEW_SESSION__DOORS__FIRSTOCK__DAILY_CUTOFF: "25:00" } });
    assert.equal(fromEnv.length, 1, fromEnv.join("; "));
    assert.match(fromEnv[0]!, /^session\.doors\.firstock\.daily_cutoff \(from CURFEW_SESSION__DOORS__FIRSTOCK__DAILY_CUTOFF\): .*"25:00"/);
    const fromFile = problemsOf({ env: {}, overrides: { "session.doors.firstock.daily_cutoff": "7pm" } });
    assert.match(fromFile.join("\n"), /^session\.doors\.firstock\.daily_cutoff: .*"7pm"/m);
  });

  test("a bad timezone stops start-up naming session.doors.firstock.timezone, not daily_cutoff", () => {
    const fromEnv = problemsOf({ env: { CURFEW_SESSION__DOORS__FIRSTOCK__TIMEZONE: "Mars/Olympus" } });
    assert.equal(fromEnv.length, 1, fromEnv.join("; "));
    assert.match(fromEnv[0]!, /^session\.doors\.firstock\.timezone \(from CURFEW_SESSION__DOORS__FIRSTOCK__TIMEZONE\): .*"Mars\/Olympus"/);
    const both = problemsOf({ env: {}, overrides: { "session.doors.firstock.daily_cutoff": "24:00", "session.doors.firstock.timezone": "Asia/Kolkatta" } });
    assert.ok(both.some((p) => p.startsWith("session.doors.firstock.daily_cutoff:")), both.join("; "));
    assert.ok(both.some((p) => p.startsWith("session.doors.firstock.timezone:")), both.join("; "));
  });
});
