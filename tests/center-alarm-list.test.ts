import test, { type ExecutionContext } from "ava";
import { csvField, toCsv } from "../center/web/csv";
import { parseAlarmFilter } from "../center/web/alarm-list";
import { type StoreEngine, storeEngines } from "./helpers/stores";
import { PASSWORDS, WebClient, alarmMessages, publishAs, s, withWebCenter, workedExamplePeriods } from "./helpers/center-web";

/** A minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF), to read back what the center wrote. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(field), (field = "");
    else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field), rows.push(row), (row = []), (field = ""), i++;
    } else field += ch;
  }
  return rows;
}

// The lists and exports run on both store engines: SQLite and PostgreSQL (tests/helpers/stores.ts).
const engines = storeEngines();
function each(title: string, fn: (t: ExecutionContext, engine: StoreEngine) => Promise<void>): void {
  for (const e of engines) e.test(title, fn);
}

test("CSV fields: quoted when they hold a comma, quote or line break; a leading = + - @ is made text with '; numbers stay numbers", (t) => {
  t.is(csvField("plain"), "plain");
  t.is(csvField('say "hi", then go'), '"say ""hi"", then go"');
  t.is(csvField("two\nlines"), '"two\nlines"');
  t.is(csvField("=HYPERLINK(\"http://evil\")"), `"'=HYPERLINK(""http://evil"")"`);
  t.is(csvField("+81 90"), "'+81 90");
  t.is(csvField("-1+2"), "'-1+2");
  t.is(csvField("@SUM(A1)"), "'@SUM(A1)");
  t.is(csvField(-5), "-5");
  t.is(csvField(null), "");
  t.is(toCsv(["a", "b"], [[1, "x,y"]]), 'a,b\r\n1,"x,y"\r\n');
  t.deepEqual(readCsv(toCsv(["a", "b"], [["=1", 'q"']])), [["a", "b"], ["'=1", 'q"']]);
});

test("the alarm filter: good fields kept, each bad one named and left out", (t) => {
  const r = parseAlarmFilter(new URLSearchParams("from=2026-04-01&to=2026-02-30&status=open&kind=burglary&pattern=12&q=" + "x".repeat(61) + "&site=2"));
  t.deepEqual(r.filter, { from: "2026-04-01", kind: "burglary", site: 2 });
  t.is(r.problems.length, 4, r.problems.join("; "));
  t.true(r.problems.some((p) => p.startsWith("to:")));
  t.true(r.problems.some((p) => p.startsWith("status:")));
});

each("the alarm list: time range, status, kind, pattern, site and search filter it; a manager sees only their site; the CSV export carries the same rows, quoted and formula-safe", async (t, engine) => {
  await withWebCenter(async ({ center, base, site1, site2 }) => {
    // a site name an attacker chose, to try a formula in the export
    (center.store as unknown as { db: { prepare(sql: string): { run(...a: unknown[]): unknown } } }).db.prepare("UPDATE sites SET name = ? WHERE id = ?").run('=HYPERLINK("http://evil.example","Tanaka, home")', site1);
    await publishAs(center, "T0001", [
      ...alarmMessages({ alarmId: 1, mediaId: 11, pattern: 1, seq: 1, time: s("2026-04-16T21:00"), images: 0 }),
      ...alarmMessages({ alarmId: 2, mediaId: 12, pattern: 3, seq: 100, time: s("2026-04-28T02:10"), images: 0, sensor: "A0002" }),
    ]);
    await publishAs(center, "T0002", alarmMessages({ alarmId: 1, mediaId: 21, pattern: 2, seq: 1, time: s("2026-04-28T03:00"), images: 0 }));
    center.web.alarms.setAlarmStatus("T0001", 2, "closed");

    const op = new WebClient(base);
    t.is((await op.login("operator", PASSWORDS.operator)).status, 303);
    const cards = async (query: string) => {
      const res = await op.get("/alarms" + query);
      t.is(res.status, 200, query);
      const page = await res.text();
      return { page, ids: [...page.matchAll(/<article class="alarm[^"]*" id="alarm-([A-Za-z0-9-]+-\d+)"/g)].map((m) => m[1]) };
    };
    t.deepEqual((await cards("")).ids, ["T0002-1", "T0001-2", "T0001-1"], "all, newest first");
    t.deepEqual((await cards("?from=2026-04-28&to=2026-04-28")).ids, ["T0002-1", "T0001-2"], "a day in the terminal's zone");
    t.deepEqual((await cards("?to=2026-04-27")).ids, ["T0001-1"]);
    t.deepEqual((await cards("?status=closed")).ids, ["T0001-2"]);
    t.deepEqual((await cards("?pattern=2")).ids, ["T0002-1"]);
    t.deepEqual((await cards(`?site=${site2}`)).ids, ["T0002-1"]);
    t.deepEqual((await cards("?kind=fire")).ids, []);
    t.deepEqual((await cards("?q=a0002")).ids, ["T0001-2"], "search is case-blind, over the sensor too");
    t.deepEqual((await cards("?q=suzuki")).ids, ["T0002-1"], "and over the site's name");
    const bad = await cards("?from=yesterday&status=closed");
    t.deepEqual(bad.ids, ["T0001-2"], "the good field still filters");
    t.regex(bad.page, /Left out of the filter: from: a date like 2026-04-28/);
    t.regex((await cards("")).page, /terminal time, UTC\+09:00.*received.*center time, UTC\+09:00/s, "both clocks labelled");

    const csvRes = await op.get("/alarms.csv?from=2026-04-01");
    t.is(csvRes.status, 200);
    t.regex(csvRes.headers.get("content-type") ?? "", /^text\/csv/);
    t.regex(csvRes.headers.get("content-disposition") ?? "", /attachment; filename="alarms.csv"/);
    const rows = readCsv(await csvRes.text());
    t.deepEqual(rows[0].slice(0, 5), ["site", "terminal", "alarm", "terminal time (UTC+09:00)", "received, center time (UTC+09:00)"]);
    t.deepEqual(
      rows.slice(1).map((r) => [r[0], r[1], r[2], r[3], r[5], r[6], r[7], r[9]]),
      [
        ["Suzuki home", "T0002", "1", "2026-04-28 03:00", "2", "burglary", "A0001", "new"],
        [`'=HYPERLINK("http://evil.example","Tanaka, home")`, "T0001", "2", "2026-04-28 02:10", "3", "burglary", "A0002", "closed"],
        [`'=HYPERLINK("http://evil.example","Tanaka, home")`, "T0001", "1", "2026-04-16 21:00", "1", "burglary", "A0001", "new"],
      ],
    );
    t.is((await op.get("/alarms.csv?pattern=x")).status, 400, "a bad filter is refused, not ignored, for an export");

    const m2 = new WebClient(base);
    t.is((await m2.login("manager2", PASSWORDS.manager2)).status, 303);
    t.deepEqual([...(await (await m2.get("/alarms")).text()).matchAll(/id="alarm-([A-Za-z0-9-]+-\d+)"/g)].map((m) => m[1]), ["T0002-1"]);
    t.deepEqual([...(await (await m2.get(`/alarms?site=${site1}`)).text()).matchAll(/id="alarm-([A-Za-z0-9-]+-\d+)"/g)].map((m) => m[1]), [], "another site's alarms stay hidden");
    const m2csv = readCsv(await (await m2.get("/alarms.csv")).text());
    t.deepEqual(m2csv.slice(1).map((r) => r[1]), ["T0002"]);
  }, { store: engine.fresh() });
});

each("the period table's CSV: one row per period with the terminal's and the center's yen; another site's terminal is a 404", async (t, engine) => {
  await withWebCenter(async ({ center, base }) => {
    await publishAs(center, "T0001", workedExamplePeriods(1));
    const m1 = new WebClient(base);
    t.is((await m1.login("manager1", PASSWORDS.manager1)).status, 303);
    const res = await m1.get("/terminals/T0001/periods.csv");
    t.is(res.status, 200);
    t.regex(res.headers.get("content-disposition") ?? "", /filename="periods-T0001.csv"/);
    const rows = readCsv(await res.text());
    t.is(rows[0][0], "start, terminal time (UTC+09:00)");
    t.is(rows.length, 3, "a header and DESIGN §2's two periods");
    const yen = rows[0].indexOf("yen (terminal)");
    const center_ = rows[0].indexOf("yen (center)");
    t.deepEqual(rows.slice(1).map((r) => r[yen]), center.store.periods("T0001").map((p) => String(p.yen)));
    t.deepEqual(rows.slice(1).map((r) => Number(r[center_])).reduce((a, b) => a + b, 0), 50976, "the center's rows sum to the worked example's total");
    t.is((await m1.get("/terminals/T0002/periods.csv")).status, 404);
  }, { store: engine.fresh() });
});

each("per-day charts: one bar per day of the range (7 or 31 days, or every day reported), days with nothing guarded as zeros, never one full-width bar", async (t, engine) => {
  await withWebCenter(async ({ center, base, site1 }) => {
    const m1 = new WebClient(base);
    t.is((await m1.login("manager1", PASSWORDS.manager1)).status, 303);
    t.regex(await (await m1.get(`/site/${site1}`)).text(), /Hours guarded per day: no data yet/);
    // the first period alone: a single day reported
    await publishAs(center, "T0001", workedExamplePeriods(1).slice(0, 1));
    const bars = (page: string) => {
      const hours = page.slice(page.indexOf("Hours guarded per day ("), page.indexOf("Yen per day ("));
      return [...hours.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="([\d.]+)" class="bar" data-day="([\d-]+)"/g)].map((m) => ({ width: Number(m[1]), height: Number(m[2]), day: m[3] }));
    };
    const one = bars(await (await m1.get(`/site/${site1}`)).text());
    t.is(one.length, 7, "the default range is the last 7 days");
    t.deepEqual(one.map((b) => b.day), ["2026-04-10", "2026-04-11", "2026-04-12", "2026-04-13", "2026-04-14", "2026-04-15", "2026-04-16"]);
    t.true(one.every((b) => b.width <= 40), "a bar is at most 40 px wide");
    t.deepEqual(one.map((b) => b.height > 0), [false, false, false, false, false, false, true]);

    await publishAs(center, "T0001", workedExamplePeriods(1).slice(1));
    const page = await (await m1.get(`/site/${site1}?range=week`)).text();
    t.regex(page, /<a href="\/site\/\d+\?range=week" aria-current="true">last 7 days<\/a>/);
    const week = bars(page);
    t.deepEqual([week[0].day, week[6].day], ["2026-04-29", "2026-05-05"], "ends at the last day reported");
    t.true(week.every((b) => b.height > 0), "guarded every day of that week");
    const month = bars(await (await m1.get(`/site/${site1}?range=month`)).text());
    t.is(month.length, 31);
    t.is(month.filter((b) => b.height > 0).length, 10, "04-16 and 04-27 to 05-05");
    const all = bars(await (await m1.get(`/site/${site1}?range=all`)).text());
    t.deepEqual([all.length, all[0].day], [20, "2026-04-16"], "from the first day reported");
    t.is(bars(await (await m1.get(`/site/${site1}?range=<script>`)).text()).length, 7, "an unknown range is the week");

    // the company's chart (admin page): every terminal's days added up
    await publishAs(center, "T0002", workedExamplePeriods(1).slice(0, 1));
    const admin = new WebClient(base);
    t.is((await admin.login("admin", PASSWORDS.admin)).status, 303);
    const company = await (await admin.get("/admin?range=all")).text();
    const yenChart = company.slice(company.indexOf("Yen per day, all terminals ("));
    t.regex(yenChart, /<title>2026-04-16: 576 yen<\/title>/, "288 yen at each of the two sites");
    t.regex(yenChart, /<title>2026-04-20: 0 yen<\/title>/);
    t.is((await m1.get("/admin")).status, 404, "a manager has no company chart");
  }, { store: engine.fresh() });
});
