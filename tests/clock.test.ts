import test from "ava";
import { VirtualClock, parseDuration } from "../host-sim/clock";

test("durations: 90m, 8d, 1h30m, 45s, 250ms", (t) => {
  t.is(parseDuration("90m"), 90 * 60_000);
  t.is(parseDuration("8d"), 8 * 86_400_000);
  t.is(parseDuration("1h30m"), 90 * 60_000);
  t.is(parseDuration("45s"), 45_000);
  t.is(parseDuration("250ms"), 250);
  for (const bad of ["", "10", "1x", "-5m", "m", "1.5h"]) t.throws(() => parseDuration(bad), { message: /bad duration/ });
});

test("the virtual clock runs faster than real time: speed × elapsed real time", (t) => {
  let real = 1000;
  const clock = new VirtualClock(Date.UTC(2026, 3, 16, 11), () => real);
  clock.follow(3600); // an hour a second
  real += 2500;
  t.is(clock.target() - clock.now, 9_000_000, "2.5 s real = 2.5 h virtual");
  clock.advanceTo(clock.target());
  clock.follow(1);
  real += 1000;
  t.is(clock.target() - clock.now, 1000);
  clock.jump(Date.UTC(2026, 4, 1));
  t.is(clock.target(), Date.UTC(2026, 4, 1));
  t.throws(() => clock.follow(0));
  clock.advanceTo(0);
  t.is(clock.now, Date.UTC(2026, 4, 1), "advanceTo never goes back");
});
