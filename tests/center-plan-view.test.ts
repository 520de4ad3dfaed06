import test from "ava";
import { PASSWORDS, WebClient, s, withWebCenter } from "./helpers/center-web";

// Times on the center's pages say whose clock they are. The site page's plan: its times are the terminal's own, so they are labelled as such and written
// as the periods table writes them (it showed bare "2026-12-01T00:00" beside labelled times).
test("the site page's plan: start and end labelled terminal time and written like the periods table", async (t) => {
  await withWebCenter(async ({ center, base, site1 }) => {
    center.store.insertPlan("T0001", 1, s("2026-04-16T19:00"), {
      contract: "continuous",
      rental: { from: "2026-04-16", to: "2026-05-06" },
      periods: [{ start: "2026-04-16T20:00", end: "2026-04-16T23:00", pattern: 1, sensors: ["A0001", "A0002"], cameras: ["B0001"] }],
    });
    const m = new WebClient(base);
    await m.login("manager1", PASSWORDS.manager1);
    const page = await (await m.get(`/site/${site1}`)).text();
    const plan = /<table class="plan">[\s\S]*?<\/table>/.exec(page)?.[0] ?? "";
    t.regex(plan, /<th>start \(terminal time\)<\/th><th>end \(terminal time\)<\/th>/);
    t.regex(plan, /<td>2026-04-16 20:00<\/td><td>2026-04-16 23:00<\/td><td>1<\/td><td>A0001, A0002<\/td><td>B0001<\/td>/);
    t.regex(page, /rental 2026-04-16 – 2026-05-06 \(terminal time, UTC\+09:00\)/);
  });
});

test("the admin page labels its terminals' and users' times with the clock they come from", async (t) => {
  await withWebCenter(async ({ base }) => {
    const a = new WebClient(base);
    await a.login("admin", PASSWORDS.admin);
    const page = await (await a.get("/admin")).text();
    t.regex(page, /<table class="terminals"><thead><tr><th>id<\/th><th>site<\/th><th>registered \(center time\)<\/th><th>last seen \(center time\)<\/th><th>last test call \(terminal time\)<\/th>/);
    t.regex(page, /<table class="users"><thead><tr><th>user<\/th><th>role<\/th><th>site<\/th><th>created \(center time\)<\/th>/);
  });
});
