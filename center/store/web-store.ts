import { AccountStore } from "./account-store";
import { AlarmActionStore } from "./alarm-action-store";
import { AlarmViewStore } from "./alarm-view-store";
import { FaultStore } from "./fault-store";
import { NotificationStore } from "./notification-store";
import { SettingsStore } from "./settings-store";
import { SiteSettingsStore } from "./site-settings-store";
import type { SqlDb } from "./sql-db";
import { SupervisionStore } from "./supervision-store";
import { TerminalViewStore } from "./terminal-view-store";

/**
 * What the web, the notifier, dispatch and supervision keep (migration 2), one store per concern,
 * all on the center's database (SQLite or PostgreSQL, sql-db.ts). This only puts them together for
 * center.ts; each consumer takes the narrow store it needs. Center-side instants are ms since 1970;
 * terminal-reported times (alarm time, test call time) stay in seconds.
 */
export class WebStores {
  readonly accounts: AccountStore;
  readonly sites: SiteSettingsStore;
  readonly terminals: TerminalViewStore;
  readonly alarms: AlarmViewStore;
  readonly actions: AlarmActionStore;
  readonly notify: NotificationStore;
  readonly faults: FaultStore;
  readonly supervision: SupervisionStore;
  readonly settings: SettingsStore;

  constructor(readonly db: SqlDb) {
    this.accounts = new AccountStore(db);
    this.sites = new SiteSettingsStore(db);
    this.terminals = new TerminalViewStore(db);
    this.alarms = new AlarmViewStore(db);
    this.actions = new AlarmActionStore(db);
    this.notify = new NotificationStore(db);
    this.faults = new FaultStore(db);
    this.supervision = new SupervisionStore(db);
    this.settings = new SettingsStore(db);
  }
}
