/** A mistake in how the command was called, or in a file it was given: exit code 2. */
export class UsageError extends Error {}

export const USAGE = `timeguard — pay-per-use home security: terminal firmware, simulator, center

  timeguard estimate --tariff T.json --plan P.json [--card N] [--json]
      the price of a plan before it is confirmed, per period and in total, in yen and card counts
  timeguard sim [--engine xs|node] [--for DURATION] [--script S.json] [--start TIME]
                [--flash FILE] [--plan P.json] [--tariff T.json] [--json]
      boots the terminal firmware in the host simulator, runs the script, then --for more (at most
      366d) of virtual time; prints a summary of the firmware's state and, under XS, the XS meter
      figures (--json: the whole state)

  timeguard start [--engine xs|node] [--data var] [--http-port 8080] [--mqtt-port 1883] [--mqtt-tls-port 8883] [--plain-link] [--sim-port 8081] [--speed N] [--fresh]
      the main job: the center and a simulated terminal (sensors, a 6,000-count card) dialling it;
      prints the simulator page, the center's page and the demo logins. A second start resumes the
      demo in --data where it stopped (terminal and clock kept together); --fresh starts over;
      one start per --data folder
  timeguard scenario FILE [--engine xs|node] [--out result.json] [--data DIR]
      runs a script (the sim actions plus center.login, operator.dispatch, manager.request-guards,
      card.new) against a center it starts, in accelerated virtual time; writes the result as JSON
      to --out or a pipe, and a summary on a terminal; --data keeps that center in a new or empty folder
  timeguard center [--data center-data] [--listen HOST] [--mqtt-port N] [--mqtt-tls-port N] [--http-port N] [--trusted-proxy ADDR]… [--public-url URL]
                   [--terminal ID:SECRET[:SITE]]… [--move-terminal] [--smtp HOST:PORT [--from ADDR]] [--media-wait SECONDS]
                   [--store postgres://USER@HOST:PORT/DB [--node NAME]]
      runs the center: MQTT endpoint for terminals (embedded broker), SQLite under DIR, web port;
      with --store and --node, one node of several sharing that PostgreSQL (docs/operations.md);
      binds 127.0.0.1 unless --listen says otherwise (0.0.0.0: every interface); a terminal of
      another site is moved only with --move-terminal
  timeguard center user add --data DIR --user NAME --role admin|operator|manager [--site SITE]
  timeguard center user passwd|remove --data DIR --user NAME      timeguard center user list --data DIR
      the center's logins; the password is read from standard input (one line), never an argument
  timeguard center terminal-psk --data DIR --terminal ID
      the terminal's pre-shared key for the TLS link (--mqtt-tls-port), in hex, for provisioning
  timeguard center export --data DIR [--json]
      prints sites, periods (with totals), alarms and media: tables, or JSON with --json
  timeguard sim-web [--engine xs|node] [--port 8080] [--start TIME] [--speed N] [--flash FILE] [--plan P.json]
      the terminal on a web page at http://127.0.0.1:PORT/ (LCD, keypad, card, sensors, clock, log),
      running in real time × speed until Ctrl-C

  timeguard card issue|topup|show|revoke --file CARD.json [--counts N] [--keys K.json] [--json]
      the issuer's tool on simulated prepaid card files (docs/card.md): issue a card, add counts
      with key B, show and check it, revoke it

Times without an offset are the terminal's zone (+09:00). Durations: 90m, 8d, 1h30m.
Exit codes: 0 done, 1 failed, 2 bad arguments or a bad file.`;
