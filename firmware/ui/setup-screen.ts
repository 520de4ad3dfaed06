import type { UiContext } from "./context";
import { refusalText } from "./refusal";
import { BACK, OK } from "./screen";
import { WIDTH, lr } from "./text";

/**
 * The setup screen (first power-up, and B from status): the devices the sensor hub knows in words,
 * # to take the new ones into the table (then, at first install, the PIN), C to search for devices
 * added later, D to leave a sensor out for one period.
 */

/** the store key: setup was confirmed once */
export const KEY_SETUP = "uisetup";

export function setupKey(cx: UiContext, k: string): void {
  if (k === OK) {
    const inv = cx.ui.inventory;
    const pending = inv && inv.pending ? inv.pending() : [];
    if (pending.length > 0 && inv && inv.confirm) {
      const r = inv.confirm();
      if (!r.ok) return cx.refuse(refusalText(null, r.error ?? "not confirmed", cx.t.tariff));
    }
    cx.store.writeJson(KEY_SETUP, true);
    cx.ui.setupConfirmed(cx.devices().map((d) => d.id));
    if (!cx.pin.isSet) {
      cx.digits = "";
      cx.screen = { name: "pin.new", first: true };
    } else cx.home();
  } else if (k === "C" && cx.ui.inventory && cx.ui.inventory.search) {
    cx.ui.inventory.search();
    cx.message = "Searching: plug in";
  } else if (k === BACK && cx.store.readJson(KEY_SETUP) === true && cx.pin.isSet) cx.home();
  else if (k === "D" && cx.ui.panel && cx.pin.isSet) cx.requirePin("to bypass", () => (cx.screen = { name: "bypass", page: 0 }));
  else cx.ignored++;
}

export function drawSetup(cx: UiContext): string[] {
  const devices = cx.devices();
  const inv = cx.ui.inventory;
  const pending = inv && inv.pending ? inv.pending().slice() : [];
  const hint = inv && inv.search ? "#=OK  C=search" : "#=OK";
  const found = devices.length + pending.length;
  if (found === 0) return ["Setup", "no sensors yet", "", hint];
  const fullHint = inv && inv.search && cx.ui.panel ? "#=OK C=search D=skip" : hint;
  // in words: "New:" those waiting for the OK, "Lost:" those silent, then those in use
  // ("OK:" when there are others to tell them from)
  const lost = devices.filter((d) => !d.connected).map((d) => d.id);
  const inUse = devices.filter((d) => d.connected).map((d) => d.id);
  const rows = wrapGroups([
    ["New:", pending],
    ["Lost:", lost],
    [pending.length + lost.length > 0 ? "OK:" : "", inUse],
  ]);
  return [lr("Setup", `${found} found`), rows[0], rows[1], pending.length > 0 ? "#=OK: add new ones" : fullHint];
}

/**
 * Labelled groups of IDs on two lines of the display, a label never last on a line; what does not
 * fit ends the second line as "N more".
 */
export function wrapGroups(groups: ReadonlyArray<readonly [string, readonly string[]]>): [string, string] {
  const words: Array<{ text: string; label: boolean }> = [];
  for (const [label, ids] of groups) {
    if (ids.length === 0) continue;
    if (label) words.push({ text: label, label: true });
    for (const id of ids) words.push({ text: id, label: false });
  }
  const lines = ["", ""];
  let row = 0;
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i];
    // a label goes with the ID after it
    const text = w.label && i + 1 < words.length ? `${w.text} ${words[i + 1].text}` : w.text;
    const line = lines[row] ? `${lines[row]} ${text}` : text;
    if (line.length <= WIDTH) {
      lines[row] = line;
      if (text !== w.text) i++;
      continue;
    }
    if (row === 1) break;
    row = 1;
    i--;
  }
  if (i < words.length) {
    // not all fit: the second line ends with how many IDs are not shown
    const shownIds = (ws: string) => ws.split(" ").filter((x) => x && x.charAt(x.length - 1) !== ":").length;
    const total = words.filter((w) => !w.label).length;
    let parts = lines[1].split(" ");
    for (;;) {
      const more = total - shownIds(lines[0]) - shownIds(parts.join(" "));
      const line = parts.length > 0 ? `${parts.join(" ")} ${more} more` : `${more} more`;
      if (line.length <= WIDTH) {
        lines[1] = line;
        break;
      }
      parts = parts.slice(0, -1);
      while (parts.length > 0 && parts[parts.length - 1].charAt(parts[parts.length - 1].length - 1) === ":") parts = parts.slice(0, -1);
    }
  }
  return [lines[0], lines[1]];
}
