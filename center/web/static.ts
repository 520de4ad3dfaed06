/** The pages' one stylesheet and one script, served from /static (the CSP allows no inline code). */
export const APP_CSS = `
body{font-family:system-ui,sans-serif;margin:0;color:#1d232a;background:#f5f6f8}
header{background:#1d3557;color:#fff;padding:.6em 1em;display:flex;gap:1em;align-items:center;flex-wrap:wrap}
header a{color:#fff;margin-right:.8em}header nav{display:flex;gap:.6em;align-items:center;flex-wrap:wrap}
.who{opacity:.8}main{padding:1em 1.5em;max-width:1200px}
section{background:#fff;border-radius:6px;padding:.6em 1em;margin:1em 0;box-shadow:0 1px 2px #0002}
table{border-collapse:collapse;margin:.4em 0}td,th{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
tfoot td{font-weight:600;border-top:2px solid #1d3557}.periods td:nth-child(n+6){text-align:right}
.card{display:flex;flex-direction:column;gap:.4em;max-width:32em;margin:.6em 0;padding:.6em;border:1px solid #ccd;border-radius:6px}
.card.login{margin:2em auto;background:#fff}form.inline{display:inline}
.flash{padding:.4em .6em;border-radius:4px}.flash.error,.error{color:#a4161a}.flash.error{background:#fde2e4}.flash.ok{background:#d8f3dc}.ok{color:#2d6a4f}
.muted{color:#667}.alarm{border-left:6px solid #e63946;padding:.4em .8em;margin:.6em 0;background:#fff8f8}
.alarm.status-closed{border-color:#999;background:#f4f4f4}.alarm.status-dispatched{border-color:#f4a261}.alarm.status-acknowledged{border-color:#e9c46a}
.badge{font-size:.75em;background:#1d3557;color:#fff;border-radius:3px;padding:.1em .4em}
.media{display:flex;gap:.5em;flex-wrap:wrap;align-items:center}.shot{width:160px;image-rendering:pixelated;border:1px solid #333}
.actions{display:flex;gap:.6em;flex-wrap:wrap}.action{display:flex;gap:.3em}
.chart svg{background:#fafbfc;border:1px solid #dde}.bar{fill:#457b9d}.axis{stroke:#333}.tick{font-size:10px;fill:#333}
tr.mismatch{background:#fde2e4}
.filters{display:flex;gap:.6em;flex-wrap:wrap;align-items:end;background:#fff;padding:.6em 1em;border-radius:6px;box-shadow:0 1px 2px #0002}
.filters label{display:flex;flex-direction:column;font-size:.85em}.csv{margin-left:auto}
time small{color:#667;font-size:.8em}.demo-logins{margin:1em auto;background:#fff}
fieldset{display:flex;flex-wrap:wrap;gap:.3em 1em;align-items:center}fieldset label,form.tariff>label{white-space:nowrap}
fieldset input[type=number],form.tariff input[type=number]{width:6em}
.ranges a{margin-right:.6em}.ranges a[aria-current]{font-weight:700;text-decoration:none;color:#1d232a}
`;

/** Live updates: on any server-sent event the page's <main> is fetched again and swapped in. */
export const APP_JS = `
(function(){
  if (document.body.dataset.live !== "1" || !window.EventSource) return;
  var pending = null, busy = false;
  function refresh(){
    pending = null;
    if (busy) { pending = setTimeout(refresh, 300); return; }
    var active = document.activeElement;
    if (active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA") && active.value) { pending = setTimeout(refresh, 1000); return; }
    busy = true;
    fetch(location.href, {credentials: "same-origin"}).then(function(r){ return r.ok ? r.text() : null; }).then(function(text){
      if (!text) return;
      var doc = new DOMParser().parseFromString(text, "text/html");
      var fresh = doc.getElementById("main"), main = document.getElementById("main");
      if (fresh && main) { main.innerHTML = fresh.innerHTML; document.body.dataset.updated = String(Date.now()); }
    }).finally(function(){ busy = false; });
  }
  var es = new EventSource("/events");
  ["alarm","media","alarm-action","fault","notification","data"].forEach(function(type){
    es.addEventListener(type, function(){ if (!pending) pending = setTimeout(refresh, 200); });
  });
  es.addEventListener("open", function(){ document.body.dataset.stream = "open"; });
})();
`;
