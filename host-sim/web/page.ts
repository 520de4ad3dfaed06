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
  #lcd .row { display: flex; gap: 2px; margin: 2px 0; }
  #lcd .cell { width: 15px; height: 24px; font: 20px/24px "DejaVu Sans Mono", monospace; color: #e8f0ff; text-align: center;
               background: rgba(255,255,255,.05); }
  #lcd.dark .cell { color: #6c7fb8; }
  #lcd .cell.cursor { border-bottom: 2px solid #e8f0ff; }
  #lcd .cell svg { width: 15px; height: 24px; }
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
  #buzzerBox { margin-top: .8rem; color: #eee; font-size: .9rem; max-width: 260px; }
  #buzzer .lamp { display: inline-block; width: 12px; height: 12px; border-radius: 50%; background: #444; margin-right: 6px; vertical-align: middle; }
  #buzzer.beep .lamp { background: #fc3; box-shadow: 0 0 8px #fc3; }
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

// ---- LCD
function glyph(rows) {
  let s = '<svg viewBox="0 0 5 8" preserveAspectRatio="none">';
  for (let y = 0; y < 8; y++) for (let x = 0; x < 5; x++)
    if ((rows[y] >> (4 - x)) & 1) s += '<rect x="' + x + '" y="' + y + '" width=".9" height=".9" fill="currentColor"/>';
  return s + "</svg>";
}
function drawLcd(lcd) {
  const el = $("lcd");
  if (!lcd) { el.textContent = "no LCD in this simulator"; return; }
  el.classList.toggle("dark", !lcd.backlight);
  el.classList.toggle("off", !lcd.displayOn);
  el.innerHTML = "";
  lcd.lines.forEach((line, r) => {
    const row = document.createElement("div");
    row.className = "row"; row.dataset.row = String(r); row.dataset.text = line;
    [...line].forEach((ch, c) => {
      const cell = document.createElement("span");
      cell.className = "cell";
      const code = ch.charCodeAt(0);
      const custom = code === 0x24ea ? 0 : code >= 0x2460 && code <= 0x2466 ? code - 0x2460 + 1 : -1;
      if (custom >= 0) cell.innerHTML = glyph(lcd.cgram[custom]);
      else cell.textContent = ch === " " ? "\\u00a0" : ch;
      if (lcd.cursor && lcd.cursor.row === r && lcd.cursor.column === c) cell.classList.add("cursor");
      row.appendChild(cell);
    });
    el.appendChild(row);
  });
}

// ---- buzzer: the page plays the pattern the terminal's buzzer plays (firmware/ui/buzzer.ts:
// [on ms, period ms]); the lamp blinks with it, and with sound on (a click: browsers start audio
// only from one) each beep is a short tone from a Web Audio oscillator.
const BEEP = { entry: [150, 1000], exit: [100, 2000] };
const BEEP_WORDS = { entry: "entry delay, a beep each second", exit: "exit delay, a beep every 2 s" };
let audio = null, soundOn = false, beepMode = "off", beepTimer = null;
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
  const [on, period] = BEEP[beepMode];
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
  beepTimer = setTimeout(beep, period);
}
function drawBuzzer(b) {
  const el = $("buzzer");
  const mode = b ? b.mode : "off";
  if (mode !== beepMode) {
    beepMode = mode;
    el.dataset.mode = mode;
    if (beepTimer !== null) { clearTimeout(beepTimer); beepTimer = null; }
    el.classList.remove("beep");
    if (mode !== "off") beep();
  }
  $("buzzerText").textContent = !b ? "no buzzer in this simulator"
    : (mode === "off" ? "silent" : "beeping: " + BEEP_WORDS[mode]) + " (" + b.beeps + " beeps on the pin)";
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
function drawSensors() {
  const el = $("sensors");
  const list = state.sensorDevices;
  let html;
  if (!has("sensor.add")) html = '<div class="muted">No sensors in this simulator.</div>';
  else if (!list || list.length === 0) html = '<div class="muted">No sensors yet: add one, then confirm it on the terminal (setup screen: B, then #).</div>';
  else {
    html = "<table><tr><th>ID</th><th>state</th><th></th></tr>";
    for (const d of list) {
      const id = escapeHtml(String(d.id));
      const st = Object.entries(d).filter(([k]) => k !== "id").map(([k, v]) => k + "=" + JSON.stringify(v)).join(" ");
      html += "<tr><td>" + id + '</td><td class="muted">' + escapeHtml(st).slice(0, 120) + "</td><td>"
        + '<button data-s="sensor.trip" data-id="' + id + '">trip</button> '
        + '<button data-s="sensor.remove" data-id="' + id + '">unplug</button> '
        + '<button data-s="sensor.add" data-id="' + id + '">plug in</button></td></tr>';
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
