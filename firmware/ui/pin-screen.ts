import type { UiContext } from "./context";
import { PIN_MAX, validPin } from "./pin";
import { BACK, LOCK, OK, ScreenOf } from "./screen";
import { minutesSeconds, stars } from "./text";

/** The PIN screens: choosing one (typed twice), and asking for it (what for, tries, lockout). */

type PinScreen = ScreenOf<"pin.new" | "pin.repeat" | "pin.ask">;

export function pinKey(cx: UiContext, s: PinScreen, k: string): void {
  const now = cx.t.now();
  if (s.name === "pin.ask" && cx.pin.lockedFor(now) > 0) {
    if (k === BACK) cx.home();
    else cx.refuse(`Locked ${minutesSeconds(cx.pin.lockedFor(now))}`);
    return;
  }
  if (k >= "0" && k <= "9") {
    if (cx.digits.length < PIN_MAX) cx.digits += k;
    else cx.ignored++;
    return;
  }
  if (k === BACK) {
    if (cx.digits.length > 0) cx.digits = cx.digits.slice(0, -1);
    else if (s.name !== "pin.ask" && s.first) cx.screen = { name: "setup" };
    else cx.home();
    return;
  }
  if (k !== OK) return void cx.ignored++;
  const pin = cx.digits;
  if (pin.length === 0) return void cx.ignored++; // # with nothing typed costs no try
  cx.digits = "";
  if (s.name === "pin.new") {
    if (!validPin(pin)) return cx.refuse("PIN is 4-8 digits");
    cx.screen = { name: "pin.repeat", first: s.first, pin };
  } else if (s.name === "pin.repeat") {
    if (pin !== s.pin) {
      cx.screen = { name: "pin.new", first: s.first };
      return cx.refuse("PINs differ: again");
    }
    cx.pin.set(pin, now);
    cx.message = "PIN set";
    cx.home();
  } else {
    const r = cx.pin.check(pin, now);
    if (r.ok) {
      cx.unlocked = r.duress !== true;
      s.then(r.duress === true);
    } else if (r.locked) cx.refuse(`Locked ${minutesSeconds(r.lockedUntil - now)}`);
    else cx.refuse(`Wrong PIN, ${r.triesLeft} left`);
  }
}

export function drawPin(cx: UiContext, s: PinScreen): string[] {
  switch (s.name) {
    case "pin.new":
      return [s.first ? "Choose a PIN" : "New PIN", `${stars(cx.digits.length)}_`, "4-8 digits", "#=OK  *=back"];
    case "pin.repeat":
      return ["Repeat the PIN", `${stars(cx.digits.length)}_`, "", "#=OK  *=back"];
    case "pin.ask": {
      const locked = cx.pin.lockedFor(cx.t.now());
      return [`${LOCK} Enter PIN`, locked > 0 ? "" : `${stars(cx.digits.length)}_`, s.why, locked > 0 ? `Locked ${minutesSeconds(locked)}` : "#=OK  *=back"];
    }
  }
}
