import { ROM_A00, UNKNOWN_GLYPH } from "./hd44780-rom";

/**
 * The simulator's web page (served by host-sim/web/server.ts): the LCD as it looks, the keypad to
 * click or type on, the card slot, the sensors, the virtual clock and the event log. One file, no
 * build step, no external resources.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Timeguard terminal — simulator</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; background: #f4f4f0; color: #222; }
  h1 { font-size: 1.2rem; margin: 0 0 1rem; }
  h2 { font-size: 1rem; margin: 0 0 .5rem; }
  .grid { display: grid; grid-template-columns: auto 1fr; gap: 1.5rem; align-items: start; }
  .panel { background: #fff; border: 1px solid #ccc; border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
  .terminal { background: #333; border-radius: 14px; padding: 1.2rem; width: max-content; }
  #lcd { background: #2b53d6; padding: 10px 12px; border-radius: 4px; border: 6px solid #111; display: inline-block; }
  #lcd.dark { background: #0d1a47; }
  #lcd.off .row { visibility: hidden; }
  #lcd .row { display: flex; gap: 3px; margin: 3px 0; }
  #lcd .cell { width: 15px; height: 24px; display: block; }
  #lcd .cell svg { width: 15px; height: 24px; display: block; }
  #lcd .cell rect.on { fill: #eef3ff; }
  #lcd .cell rect.off { fill: rgba(255,255,255,.08); }
  #lcd.dark .cell rect.on { fill: #6c7fb8; }
  #lcd.dark .cell rect.off { fill: rgba(255,255,255,.03); }
  #keypad { display: grid; grid-template-columns: repeat(4, 52px); gap: 8px; margin-top: 1rem; }
  #keypad button { height: 46px; font-size: 1.2rem; border-radius: 6px; border: 1px solid #111; cursor: pointer; background: #eee; }
  #keypad button[data-key="A"], #keypad button[data-key="B"], #keypad button[data-key="C"], #keypad button[data-key="D"] { background: #d33; color: #fff; }
  #keypad button:active, #keypad button.pressed { background: #999; }
  .hint { color: #ccc; font-size: .8rem; margin-top: .6rem; max-width: 260px; }
  table { border-collapse: collapse; }
  td, th { border-bottom: 1px solid #ddd; padding: 2px 8px; text-align: left; font-size: .9rem; }
  #log { font: 12px/1.4 monospace; height: 260px; overflow-y: auto; background: #111; color: #cfc; padding: .5rem; margin: 0; }
  .muted { color: #888; }
  input[type=text] { width: 11rem; }
  .err { color: #b00; }
  .good { color: #2d6a4f; } .bad { color: #b00; font-weight: 600; } .armed { color: #b00; font-weight: 600; }
  .sensors .icon { display: inline-block; width: 1.2em; text-align: center; }
  #buzzerBox { margin-top: .8rem; color: #eee; font-size: .9rem; max-width: 260px; }
  #buzzer .lamp { display: inline-block; width: 12px; height: 12px; border-radius: 50%; background: #444; margin-right: 6px; vertical-align: middle; }
  #buzzer.beep .lamp { background: #fc3; box-shadow: 0 0 8px #fc3; }
  #buzzer.alarm #buzzerText { color: #f66; font-weight: bold; }
  #buzzer.alarm.beep .lamp { background: #f33; box-shadow: 0 0 10px #f33; }
</style>
</head>
<body>
<h1>Timeguard terminal <span class="muted" id="engine"></span></h1>
<div class="grid">
  <div>
    <div class="terminal">
      <div id="lcd" aria-label="LCD" role="img"></div>
      <div id="keypad" aria-label="keypad"></div>
      <div id="buzzerBox">Buzzer: <span id="buzzer" data-mode="off" data-tones="0" data-sound="off" aria-live="polite"><span class="lamp"></span><span id="buzzerText">silent</span></span>
        <button id="soundBtn" type="button">sound on</button></div>
      <div class="hint">Type on your keyboard too: digits, A–D, * (or Backspace/Esc) = back, # (or Enter) = OK.</div>
    </div>
  </div>
  <div>
    <div class="panel">
      <h2>Clock</h2>
      <div>Virtual time <b id="time">…</b>, speed ×<b id="speed"></b></div>
      <div style="margin-top:.5rem">
        Speed <select id="speedSel"><option>1</option><option>10</option><option>60</option><option>600</option><option>3600</option></select>
        <button id="speedBtn">set</button>
        &nbsp; Jump to <input type="text" id="jumpTo" placeholder="2026-04-16T20:00"> <button id="jumpBtn">jump</button>
      </div>
      <div class="err" id="clockErr"></div>
    </div>
    <div class="panel">
      <h2>Card slot</h2>
      <div id="card"></div>
      <div class="err" id="cardErr"></div>
    </div>
    <div class="panel">
      <h2>Sensors</h2>
      <div id="sensors"></div>
      <div style="margin-top:.5rem" id="sensorAdd"></div>
      <div class="err" id="sensorErr"></div>
    </div>
    <div class="panel">
      <h2>Terminal</h2>
      <div id="terminal" class="muted"></div>
      <div style="margin-top:.5rem">
        <button id="restartBtn" title="cut the power and restore it: the terminal keeps what its flash holds">restart (power cut)</button>
        <button id="newSessionBtn" hidden title="erase the terminal's memory and boot it as new">new session…</button>
        <button id="saveSessionBtn" title="download the session: the terminal's memory, the clock, the sensors and the card">save session</button>
        <button id="restoreSessionBtn" hidden title="put the terminal, its clock, sensors and card back as a saved session had them">restore session…</button>
        <input id="sessionFile" type="file" accept=".json,application/json" hidden>
      </div>
      <div class="err" id="terminalErr"></div>
    </div>
    <div class="panel">
      <h2>Event log</h2>
      <div id="logFilters">Show:
        <label><input type="checkbox" data-kind="terminal" checked> terminal</label>
        <label><input type="checkbox" data-kind="action" checked> what you did</label>
        <label><input type="checkbox" data-kind="fee" checked> fee</label>
        <label><input type="checkbox" data-kind="simulator" checked> simulator</label>
      </div>
      <pre id="log"></pre>
    </div>
  </div>
</div>
<script>
"use strict";
const KEYS = ["1","2","3","A","4","5","6","B","7","8","9","C","*","0","#","D"];
const $ = (id) => document.getElementById(id);
let state = null;

async function post(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const j = await r.json().catch(() => ({ ok: false, error: "no answer" }));
  if (!r.ok || j.ok === false) throw new Error(j.error || r.statusText);
  return j;
}

// ---- keypad
const pad = $("keypad");
for (const k of KEYS) {
  const b = document.createElement("button");
  b.textContent = k; b.dataset.key = k; b.type = "button";
  b.addEventListener("click", () => press(k));
  pad.appendChild(b);
}
function press(k) {
  const b = pad.querySelector('button[data-key="' + CSS.escape(k) + '"]');
  if (b) { b.classList.add("pressed"); setTimeout(() => b.classList.remove("pressed"), 150); }
  // One request after the other: keys typed fast must reach the keypad in the order typed.
  keyChain = keyChain.then(() => post("/api/keys", { seq: k })).catch((e) => log({ at: "", text: "key refused: " + e.message }));
}
let keyChain = Promise.resolve();
document.addEventListener("keydown", (e) => {
  if (e.target && (e.target.tagName === "INPUT" || e.target.tagName === "SELECT")) return;
  let k = e.key.toUpperCase();
  if (k === "ENTER") k = "#";
  if (k === "BACKSPACE" || k === "ESCAPE") k = "*";
  if (KEYS.includes(k)) { e.preventDefault(); press(k); }
});

// ---- LCD: each character drawn as the HD44780's 5x8 dots, from its ROM A00 (hd44780-rom.ts) or
// the CGRAM the firmware loaded (custom characters 0-7); unlit dots show faintly, as on the glass.
const ROM = ${JSON.stringify(ROM_A00)};
const UNKNOWN = ${JSON.stringify(UNKNOWN_GLYPH)};
function glyph(rows, cursor) {
  let s = '<svg viewBox="0 0 5 8" preserveAspectRatio="none" data-dots="' + rows.map((r, y) => (y === 7 && cursor ? 31 : r & 31)).join(",") + '">';
  for (let y = 0; y < 8; y++) for (let x = 0; x < 5; x++) {
    const on = ((rows[y] >> (4 - x)) & 1) || (y === 7 && cursor);
    s += '<rect x="' + (x + .05) + '" y="' + (y + .05) + '" width=".86" height=".86" class="' + (on ? "on" : "off") + '"/>';
  }
  return s + "</svg>";
}
function dotsOf(ch, lcd) {
  const code = ch.charCodeAt(0);
  const custom = code === 0x24ea ? 0 : code >= 0x2460 && code <= 0x2466 ? code - 0x2460 + 1 : -1;
  if (custom >= 0) return lcd.cgram[custom];
  return ROM[ch] || UNKNOWN;
}
let lcdDrawn = "";
function drawLcd(lcd) {
  const el = $("lcd");
  if (!lcd) { el.textContent = "no LCD in this simulator"; return; }
  el.classList.toggle("dark", !lcd.backlight);
  el.classList.toggle("off", !lcd.displayOn);
  el.setAttribute("aria-label", "LCD: " + lcd.lines.join(" / "));
  const key = JSON.stringify([lcd.lines, lcd.cursor, lcd.cgram]);
  if (key === lcdDrawn) return;
  lcdDrawn = key;
  el.innerHTML = "";
  lcd.lines.forEach((line, r) => {
    const row = document.createElement("div");
    row.className = "row"; row.dataset.row = String(r); row.dataset.text = line;
    [...line].forEach((ch, c) => {
      const cell = document.createElement("span");
      cell.className = "cell";
      const cursor = !!(lcd.cursor && lcd.cursor.row === r && lcd.cursor.column === c);
      cell.innerHTML = glyph(dotsOf(ch, lcd), cursor);
      if (cursor) cell.classList.add("cursor");
      row.appendChild(cell);
    });
    el.appendChild(row);
  });
}

// ---- buzzer: the page plays the pattern the terminal's buzzer plays (firmware/ui/buzzer.ts:
// [on ms, off ms] pairs in a loop); the lamp blinks with it, and with sound on (a click: browsers
// start audio only from one) each beep is a short tone from a Web Audio oscillator.
const BEEP = { entry: [[150, 850]], exit: [[100, 1900]], alarm: [[125, 125]], fire: [[500, 500], [500, 500], [500, 1500]] };
const BEEP_WORDS = {
  entry: "entry delay, a beep each second",
  exit: "exit delay, a beep every 2 s",
  alarm: "ALARM, until the PIN or the 3-minute cut-off",
  fire: "FIRE ALARM (three long beeps, a pause), until the PIN",
};
let audio = null, soundOn = false, beepMode = "off", beepTimer = null, beepStep = 0;
$("soundBtn").addEventListener("click", () => {
  soundOn = !soundOn;
  if (soundOn && !audio) {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (AC) audio = new AC();
  }
  if (soundOn && audio && audio.state === "suspended") audio.resume();
  $("buzzer").dataset.sound = soundOn && audio ? "on" : "off";
  $("soundBtn").textContent = soundOn ? "sound off" : "sound on";
  if (soundOn && !audio) $("buzzerText").textContent = "this browser has no Web Audio";
});
function beep() {
  beepTimer = null;
  if (beepMode === "off") return;
  const pattern = BEEP[beepMode];
  const [on, off] = pattern[beepStep % pattern.length];
  beepStep = (beepStep + 1) % pattern.length;
  const el = $("buzzer");
  el.classList.add("beep");
  setTimeout(() => el.classList.remove("beep"), on);
  if (soundOn && audio) {
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = "square"; osc.frequency.value = 2700; gain.gain.value = 0.05;
    osc.connect(gain); gain.connect(audio.destination);
    osc.start(); osc.stop(audio.currentTime + on / 1000);
    el.dataset.tones = String(Number(el.dataset.tones) + 1);
    el.dataset.audio = audio.state;
  }
  beepTimer = setTimeout(beep, on + off);
}
function drawBuzzer(b) {
  const el = $("buzzer");
  const mode = b ? b.mode : "off";
  if (mode !== beepMode) {
    beepMode = mode;
    el.dataset.mode = mode;
    if (beepTimer !== null) { clearTimeout(beepTimer); beepTimer = null; }
    beepStep = 0;
    el.classList.toggle("alarm", mode === "alarm" || mode === "fire");
    el.classList.remove("beep");
    if (mode !== "off") beep();
  }
  $("buzzerText").textContent = !b ? "no buzzer in this simulator"
    : (mode === "off" ? "silent" : (BEEP_WORDS[mode] ? "beeping: " + BEEP_WORDS[mode] : "beeping")) + " (" + b.beeps + " beeps on the pin)";
}

// ---- panels
function has(action) { return state && state.actions.includes(action); }
function act(body, errEl) {
  $(errEl).textContent = "";
  return post("/api/action", body).catch((e) => { $(errEl).textContent = e.message; });
}
function drawCard() {
  const el = $("card");
  let html = "";
  if (has("card.insert")) {
    const slot = state.card && state.card.cardSlot;
    html += "<div>" + (slot && slot.inserted ? "Card in the slot: <b>" + slot.counts + "</b> counts (uid " + escapeHtml(String(slot.uid)) + ")"
      : "The slot is empty.") + "</div>";
    html += '<div style="margin-top:.4rem">Counts <input type="text" id="cardCounts" value="472" size="6"> '
      + '<button id="cardIssue">issue a card and insert it</button> '
      + (has("card.topup") ? '<button id="cardTopup">top up</button> ' : "")
      + (has("card.remove") ? '<button id="cardRemove">remove</button>' : "") + "</div>"
      + '<div style="margin-top:.4rem">Card file <input type="text" id="cardFile" placeholder="card.json"> <button id="cardInsert">insert</button></div>';
  } else {
    html += '<div class="muted">No card reader in this simulator. Tell the terminal screens what a card holds: '
      + '<input type="text" id="cardCounts" value="472" size="6"> <button data-ui-card="set">card in</button> '
      + '<button data-ui-card="none">no card</button></div>';
  }
  if (el.dataset.html !== html) {
    const keep = $("cardCounts") ? $("cardCounts").value : "472";
    const keepFile = $("cardFile") ? $("cardFile").value : "";
    el.innerHTML = html; el.dataset.html = html;
    if ($("cardCounts")) $("cardCounts").value = keep;
    if ($("cardFile")) $("cardFile").value = keepFile;
    const counts = () => Number($("cardCounts").value);
    if ($("cardIssue")) $("cardIssue").addEventListener("click", () => {
      $("cardErr").textContent = "";
      post("/api/card/issue", { counts: counts() }).catch((e) => { $("cardErr").textContent = e.message; });
    });
    if ($("cardTopup")) $("cardTopup").addEventListener("click", () => act({ do: "card.topup", counts: counts() }, "cardErr"));
    if ($("cardRemove")) $("cardRemove").addEventListener("click", () => act({ do: "card.remove" }, "cardErr"));
    if ($("cardInsert")) $("cardInsert").addEventListener("click", () => act({ do: "card.insert", file: $("cardFile").value.trim() }, "cardErr"));
    el.querySelectorAll("button[data-ui-card]").forEach((b) => b.addEventListener("click", () =>
      act({ do: "ui.card", counts: b.dataset.uiCard === "none" ? null : counts() }, "cardErr")));
  }
}
const KINDS = {
  intrusion: { icon: "&#x25C8;", name: "motion sensor" },
  camera: { icon: "&#x25C9;", name: "camera" },
  smoke: { icon: "&#x2668;", name: "smoke sensor" },
  door: { icon: "&#x25AF;", name: "door contact" },
};
function drawSensors() {
  const el = $("sensors");
  const list = state.sensorDevices;
  let html;
  if (!has("sensor.add")) html = '<div class="muted">No sensors in this simulator.</div>';
  else if (!list || list.length === 0) html = '<div class="muted">No sensors yet: add one, then confirm it on the terminal (setup screen: B, then #).</div>';
  else {
    html = '<table class="sensors"><tr><th>ID</th><th>device</th><th>power</th><th>guard</th><th>battery</th><th>reports</th><th></th></tr>';
    for (const d of list) {
      const id = escapeHtml(String(d.id));
      const raw = Object.entries(d).filter(([k]) => k !== "id").map(([k, v]) => k + "=" + JSON.stringify(v)).join(" ");
      const kind = KINDS[d.type] || { icon: "?", name: String(d.type) };
      // what the device did in this run (its frame counter, in the row's title, is not a count of events)
      const reports = d.sent + " message(s) sent, " + d.commands + " command(s) heard" + (d.type === "camera" ? ", " + d.captures + " capture(s)" : "")
        + (d.eventsLost ? ", " + d.eventsLost + " event(s) lost" : "");
      html += '<tr data-sensor="' + id + '" title="' + escapeHtml(raw) + '"><td><b>' + id + "</b></td>"
        + '<td><span class="icon" aria-hidden="true">' + kind.icon + "</span> " + escapeHtml(kind.name) + (d.link === "wifi" ? " (Wi-Fi)" : "") + "</td>"
        + '<td class="' + (d.powered ? "good" : "bad") + '">' + (d.powered ? "on" : "unplugged") + "</td>"
        + "<td>" + (d.armed ? '<span class="armed">armed</span>' : "not armed") + (d.tamper ? ' <span class="bad">cover open</span>' : "") + "</td>"
        + '<td class="' + (d.battery === "low" ? "bad" : "good") + '">' + (d.battery === "low" ? "low" : "ok") + "</td>"
        + '<td class="muted">' + escapeHtml(reports) + "</td><td>"
        + (d.powered
          ? '<button data-s="sensor.trip" data-id="' + id + '">trip</button> <button data-s="sensor.remove" data-id="' + id + '">unplug</button>'
          : '<button data-s="sensor.add" data-id="' + id + '">plug in</button>')
        + "</td></tr>";
    }
    html += "</table>";
  }
  if (el.dataset.html !== html) {
    el.innerHTML = html; el.dataset.html = html;
    el.querySelectorAll("button[data-s]").forEach((b) => b.addEventListener("click", () => act({ do: b.dataset.s, id: b.dataset.id }, "sensorErr")));
  }
  const add = $("sensorAdd");
  if (has("sensor.add") && !add.dataset.done) {
    add.dataset.done = "1";
    add.innerHTML = 'New device <input type="text" id="newId" placeholder="A0001" size="6"> <button id="addBtn">power up</button>'
      + (has("pairing.open") ? ' <button id="pairBtn">open pairing</button>' : "");
    $("addBtn").addEventListener("click", () => act({ do: "sensor.add", id: $("newId").value.trim() }, "sensorErr"));
    if ($("pairBtn")) $("pairBtn").addEventListener("click", () => act({ do: "pairing.open" }, "sensorErr"));
  }
}
function drawTerminal() {
  const t = state.terminal;
  $("terminal").textContent = t ? "guarding: " + t.guarding + " · owed " + t.owedYen + " yen (" + t.countsDue + " counts) · screen "
    + (t.ui ? t.ui.screen : "?") + " · plan " + (t.plan ? t.plan.periods.length : 0) + " period(s)" : "no power";
}
$("restartBtn").addEventListener("click", () => {
  if (!confirm("Cut the terminal's power and restore it? It keeps what its flash holds, as after a power failure.")) return;
  act({ do: "power-cut" }, "terminalErr");
});
$("newSessionBtn").addEventListener("click", () => {
  if (!confirm("Start a new session? The terminal's memory (PIN, sensors, plan, fee owed) is erased and it boots as new.")) return;
  $("terminalErr").textContent = "";
  post("/api/session/new", { confirm: true }).catch((e) => { $("terminalErr").textContent = e.message; });
});
$("saveSessionBtn").addEventListener("click", async () => {
  $("terminalErr").textContent = "";
  try {
    const r = await fetch("/api/session/save", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    if (!r.ok) throw new Error((await r.json()).error || r.statusText);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = "timeguard-session-" + state.time.replace(/[^0-9]/g, "").slice(0, 12) + ".json";
    document.body.append(a); a.click(); a.remove();
  } catch (e) { $("terminalErr").textContent = e.message; }
});
$("restoreSessionBtn").addEventListener("click", () => $("sessionFile").click());
$("sessionFile").addEventListener("change", async () => {
  const f = $("sessionFile").files[0];
  $("sessionFile").value = "";
  if (!f) return;
  if (!confirm("Restore the session in " + f.name + "? The terminal now running is replaced (its memory, the clock, the sensors and the card).")) return;
  $("terminalErr").textContent = "";
  try {
    const r = await fetch("/api/session/restore", { method: "POST", headers: { "content-type": "application/json" }, body: await f.text() });
    const out = await r.json();
    if (!r.ok) throw new Error(out.error || r.statusText);
  } catch (e) { $("terminalErr").textContent = e.message; }
});
function escapeHtml(s) { return s.replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";"); }

function apply(s) {
  state = s;
  $("engine").textContent = "(" + s.engine + " engine)";
  $("time").textContent = s.time; $("time").dataset.time = s.time;
  $("speed").textContent = s.speed;
  // the speed menu shows the speed in force (added to the menu if it is not one of its choices)
  const sel = $("speedSel");
  if (document.activeElement !== sel) {
    const v = String(s.speed);
    if (![...sel.options].some((o) => o.value === v)) sel.add(new Option(v, v));
    sel.value = v;
  }
  $("newSessionBtn").hidden = !s.newSession;
  $("restoreSessionBtn").hidden = !s.newSession;
  drawLcd(s.lcd); drawCard(); drawSensors(); drawTerminal(); drawBuzzer(s.buzzer);
}
const logLines = [];
function shownKinds() {
  return new Set([...document.querySelectorAll("#logFilters input")].filter((c) => c.checked).map((c) => c.dataset.kind));
}
function drawLog() {
  const el = $("log");
  const kinds = shownKinds();
  el.textContent = logLines.filter((l) => !l.kind || kinds.has(l.kind)).map((l) => (l.at ? l.at + "  " : "") + l.text).join("\\n");
  el.scrollTop = el.scrollHeight;
}
function log(line) {
  logLines.push(line);
  if (logLines.length > 500) logLines.shift();
  drawLog();
}
for (const c of document.querySelectorAll("#logFilters input")) c.addEventListener("change", drawLog);

$("speedBtn").addEventListener("click", () => post("/api/clock", { speed: Number($("speedSel").value) }).then(() => $("clockErr").textContent = "", (e) => $("clockErr").textContent = e.message));
$("jumpBtn").addEventListener("click", () => post("/api/clock", { jump: $("jumpTo").value.trim() }).then(() => $("clockErr").textContent = "", (e) => $("clockErr").textContent = e.message));

fetch("/api/state").then((r) => r.json()).then(apply);
const es = new EventSource("/api/events");
es.addEventListener("state", (e) => apply(JSON.parse(e.data)));
es.addEventListener("log", (e) => log(JSON.parse(e.data)));
</script>
</body>
</html>
`;
