// Package loggen generates realistic, deterministic corpora of the three
// producers' logs (ExchangeConnector log4net text, sync engine logfmt,
// C4CC Connector JSON lines) together with the incidents a correct
// pipeline must report for them (the truth), for tests, benchmarks,
// `ingest --demo` and load tests. The shapes follow the project's
// log-formats.md and the truth follows its detection.md.
//
// # Runs and scenarios
//
// Every mailbox runs a sync every ~Config.RunInterval: engine run_started,
// records synced across the producers (ExchangeConnector "item X synced",
// engine record_synced, C4CC "record pushed" with 200/201), engine
// run_finished synced=N failed=M duration_ms=D. Noise: DEBUG "Fetching
// changes since watermark N", WARN "Server busy (429)", C4CC session
// lines, runs that die without an end line (they synced records), and
// retries (a record fails and then succeeds in the same run, by the same
// producer: no truth). Producer clocks drift slowly within about +-1.5 s
// of the engine's, so some lines of a run are stamped before its
// run_started or after its run_finished.
//
// An idle mailbox starts an incident scenario with probability
// Config.IncidentRate per hour; scenarios are drawn from a shuffled deck,
// so a day of the default corpus holds every class:
//
//   - always-total classes (exchange.auth.password, exchange.auth.oauth_expired,
//     engine.snapshot_limit, exchange.ews.not_found,
//     exchange.org.marked_for_removal, exchange.server.unsupported): 1..N
//     runs that sync nothing, then a recovery run. After an auth error the
//     mailbox is quiet for hours (sometimes for good).
//   - depends-on-run classes (exchange.ews.forbidden, exchange.xml.truncated,
//     c4c.server.internal_error, unknown): >= 2 consecutive runs that sync
//     nothing (a sync_error), or a single one among good runs (a blip: no
//     truth). C4CC 500s on some records of runs that sync others are a
//     sync_issue.
//   - per-record classes (record.too_large, record.mandatory_field,
//     record.not_found, record.conflict, record.unknown, and
//     c4c.server.internal_error): the same few records fail in 1..k
//     consecutive runs that sync others; sometimes two classes at once.
//
// # The truth
//
// The truth is not the scenario's intent: it is computed from the
// generated runs' outcomes by the rules of detection.md (see tracker):
//
//   - an always-total class opens a sync_error at its first line (Start);
//   - a depends-on-run class (or unknown) opens a sync_error once 2
//     consecutive runs synced nothing and failed with it; Start is its
//     first line in the first of those runs;
//   - a per-record failure not recovered in its run opens a sync_issue at
//     its first line;
//   - a sync_error ends (End) at the run_finished of the next run that
//     synced records; a sync_issue at the run_finished of the next run
//     that finished without a failure of its class; End is null when no
//     such run came before the end of the input. Silence resolves nothing.
//
// Scenarios of one mailbox never overlap, so that no rule is ambiguous.
// Where detection.md leaves room, the generator stays on the safe side:
// runs die (no end line) only while nothing is open; a retried failure is
// never of a class that is open or failing in the scenario; a run that
// syncs nothing always has exactly one cause (plus the engine's generic
// effect line); an unknown failure that hits every record of a run is
// never generated (it could be called unknown or record.unknown), the
// C4CC unknown total is a run-level line instead. Start is the time as
// stamped on the evidence line (so it includes its producer's clock
// skew): for an auth error, the ERROR line (the WARN follows 2 ms later).
//
// # Dirt
//
// Config.Dirty adds, without changing the truth: CRLF endings in
// exchange.log; timestamps without milliseconds; +02:00 offsets on some
// logfmt ts; shuffled logfmt keys; lower-case JSON levels; unknown JSON
// fields (threadId, host); wording noise on error messages (a prefix such
// as "EWS: ", all upper or lower case, a trailing "(request id <guid>)",
// the trailing period dropped or added); exact duplicates (Stats.Dup),
// including copies of an entry in another producer's file
// (Stats.Foreign); and bad entries (Stats.Bad): blank lines, truncated
// lines, binary garbage, a JSON line cut in half, logfmt with an
// unclosed quote, a cut entry of another producer's format. Only entries
// that carry no failure (synced records, run_started, noise) lose their
// milliseconds or are copied, so no truth time moves.
//
// # Wording
//
// Config.Wording 1 replaces each class's catalog message with a
// recognisably equivalent paraphrase, to test that detection generalizes
// (2 picks one set per scenario). Catalog (0) -> paraphrase (1):
//
//	exchange.auth.password       Authentication error
//	                             -> Authentication failed
//	                             Synchronization was disabled due to restricted access to your mailbox. Probably your e-mail password was changed
//	                             -> Sync has been disabled because access to the mailbox is restricted. The e-mail password has probably been changed
//	exchange.auth.oauth_expired  Authentication error – OAuthRefreshToken might have expired
//	                             -> Authentication failed: the OAuth refresh token has probably expired
//	                             Synchronization was disabled due to restricted access to your mailbox.
//	                             -> Sync has been disabled because access to the mailbox is restricted.
//	engine.snapshot_limit        A limit on the number of snapshot records is exceeded (10000/10040/0)
//	                             -> Snapshot record limit exceeded (10000/10040/0)
//	exchange.ews.not_found       Unexpected Exchange error: The request failed. The remote server returned an error: (404) Not Found.
//	                             -> Exchange error: EWS request failed with HTTP 404 (Not Found).
//	                             (stack: System.Net.WebException: HTTP 404 (Not Found).)
//	exchange.ews.forbidden       Unexpected Exchange error: The remote server returned an error: (403) Forbidden.
//	                             -> Exchange error: EWS request failed with HTTP 403 (Forbidden).
//	exchange.xml.truncated       Unexpected Exchange error: The XML document ended unexpectedly.
//	                             -> Exchange error: XML stream ended prematurely.
//	exchange.org.marked_for_removal  Unexpected Exchange error: Organization "<org>" is marked for removal.
//	                             -> Exchange error: The organization "<org>" has been marked for removal.
//	exchange.server.unsupported  Unexpected Exchange error: Unsupported property field URI type. Server: Kerio Connect 9.0.3
//	                             -> Exchange error: Property field URI type not supported by the server. Server: Kerio Connect 9.0.3
//	c4c.server.internal_error    Remote server returned an error: (500) Internal server error
//	                             -> HTTP 500 Internal Server Error returned by the remote server
//	record.too_large             The item exceeds the maximum allowed size
//	                             -> Item is larger than the maximum allowed size
//	record.mandatory_field       Mandatory field <Subject|OwnerID|StartDateTime> is missing
//	                             -> Required field <Subject|OwnerID|StartDateTime> is missing
//	record.not_found             The specified object was not found in the store.
//	                             -> Object not found in the store.
//	record.conflict              Update conflict: the item was changed by another client
//	                             -> Conflict on update: item was modified by another client
//
// The engine's generic lines ("Exchange connector failed", "Mailbox access
// denied by connector") and the unknown messages are the same in both
// sets. Unknown total failures: "...Could not establish trust relationship
// for the SSL/TLS secure channel.", "(502) Bad Gateway.", "The remote name
// could not be resolved: 'mail.<domain>'", "Mailbox database 'DBnnnn' is
// dismounted." (ExchangeConnector), "State store unavailable: dial tcp
// ...: connection refused" (engine run_failed), "Service unavailable:
// tenant myNNNN is in maintenance mode" (a C4CC session ERROR without a
// record, then run_finished synced=0 failed=0).
// Unknown per-record failures: "Invalid value for property StartDateTime:
// <time>" (C4CC 400), "Value '<x>' is not allowed for property
// CurrencyCode" (C4CC 422), "Recurrence pattern is invalid: FirstDayOfWeek
// N is out of range", "Attachment '<file>' could not be converted"
// (ExchangeConnector), "Duplicate external key N for business partner"
// (engine). Retried (transient) failures: C4CC 500 and "Gateway timeout
// after 30000 ms" (504), ExchangeConnector "The operation has timed out",
// update conflicts.
package loggen
