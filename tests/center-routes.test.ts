import test from "ava";
import { RouteTable } from "../center/web/routes";

test("route table: method and every segment must match; :params reach the handler in order; the first match wins", async (t) => {
  const seen: string[] = [];
  const table = new RouteTable<string>([
    { method: "GET", pattern: "", handler: (c) => void seen.push(`${c} home`) },
    { method: "POST", pattern: "users/:id/password", handler: (c, id) => void seen.push(`${c} password ${id}`) },
    { method: "POST", pattern: "users/:id/:what", handler: (c, id, what) => void seen.push(`${c} ${what} ${id}`) },
    { method: "POST", pattern: "destinations/:id", handler: async (c, id) => void seen.push(`${c} destination ${id}`) },
  ]);
  t.true(await table.run("a", "GET", []));
  t.true(await table.run("b", "POST", ["users", "7", "password"]));
  t.true(await table.run("c", "POST", ["users", "7", "delete"]));
  t.true(await table.run("d", "POST", ["destinations", "3"]));
  t.false(await table.run("e", "GET", ["users", "7", "password"]), "wrong method");
  t.false(await table.run("f", "POST", ["destinations", "3", "x"]), "longer path");
  t.false(await table.run("g", "POST", ["users"]), "shorter path");
  t.false(await table.run("h", "POST", []));
  t.deepEqual(seen, ["a home", "b password 7", "c delete 7", "d destination 3"]);
});
