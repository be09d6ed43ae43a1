/**
 * feed-client.js: a live view of workspace-group activity feeds, for any web app.
 *
 * One FeedClient holds one socket to /ws/activities/ and any number of watched
 * workspace groups. For each group it guarantees:
 *
 * - Snapshot, then changes. A group starts with a REST page (newest first) and the
 *   `X-Stream-Seq` value read before that page; the socket subscription starts with
 *   `since` set to that value, so nothing committed after the page is missed.
 * - Events are upserts. An activity that was already in the page may arrive again as
 *   an event; consumers key rows by activity id (`created` and `updated` both mean
 *   "this is the activity now").
 * - Resume without loss. After a drop the socket reconnects with exponential backoff
 *   and jitter, and every group resubscribes with `since` = the last seq it saw; the
 *   server replays what was missed.
 * - No duplicates. An event whose seq is not above the group's last seen seq is a
 *   replay of something already delivered and is dropped.
 * - Gaps. Without a type filter the server never skips a seq, so a gap means loss and
 *   the group resubscribes from its last seq. With a type filter the server skips the
 *   filtered events' seqs, so gaps are expected and ignored.
 * - Reset. `reset` means the history after our seq is gone: the group is refetched
 *   over REST (a fresh snapshot) and resubscribed from the new page's seq.
 * - Heartbeat. An app-level ping goes out every `heartbeatIntervalMs`; no pong within
 *   `heartbeatTimeoutMs` drops the socket and reconnects, so a half-open connection
 *   (sleeping laptop, dead proxy) is noticed even when the browser is not told.
 *
 * Filters. `activityTypes` is sent to the server in the subscribe frame, which only
 * sends matching events; changing it refetches the group and resubscribes with
 * `since`. The subscribe frame has no author filter, so `author` is applied twice:
 * on the REST query (`user=<id>`) and here, on every event, before it is delivered.
 * The author of an activity never changes, so this filter needs no server state.
 * Events of other types are also dropped here, because a resubscription's `subscribed`
 * frame may be preceded by events sent under the previous filter.
 *
 * Usage:
 *
 *     import { FeedClient } from "/static/dashboard/feed-client.js";
 *     const client = new FeedClient();
 *     client.on("status", ({ status }) => indicator.textContent = status);
 *     client.on("snapshot", ({ group, activities, next }) => render(group, activities));
 *     client.on("activity", ({ group, kind, activity }) => apply(group, kind, activity));
 *     client.start();
 *     client.watch(7, { activityTypes: [200, 201], author: null });
 *
 * Statuses: "connecting" (first attempt), "live" (the server answered on this socket),
 * "reconnecting" (waiting to try again), "offline" (several attempts failed, or the
 * session is gone: the client keeps trying unless the server refused the user).
 */

export const STATUS = Object.freeze({
  CONNECTING: "connecting",
  LIVE: "live",
  RECONNECTING: "reconnecting",
  OFFLINE: "offline",
});

/** Close codes of the gateway (see the protocol module of the server). */
export const CLOSE = Object.freeze({
  UNAUTHENTICATED: 4401,
  FORBIDDEN: 4403,
  RESYNC: 4409,
  RATE_LIMITED: 4429,
  TOO_BIG: 1009,
  SERVICE_RESTART: 1012,
});

// A close code the client uses itself when it gives up on a silent socket.
const CLOSE_HEARTBEAT = 4000;

const DEFAULTS = Object.freeze({
  url: "/ws/activities/",
  apiBase: "/api/",
  pageSize: 50,
  // The server pings at the transport level too; this one proves the whole path,
  // proxies included, and is what the status indicator trusts.
  heartbeatIntervalMs: 20_000,
  heartbeatTimeoutMs: 10_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
  // After this many failed attempts in a row the status reads "offline".
  offlineAfterAttempts: 4,
});

/**
 * Delay before reconnect attempt number `attempt` (0 for the first retry).
 *
 * The ceiling doubles per attempt up to `maxMs`; the delay is drawn uniformly from
 * the upper half of the ceiling ("equal jitter"), so delays grow, never exceed the
 * cap, and a crowd of clients dropped at once does not come back in lockstep.
 */
export function backoffDelay(attempt, { baseMs, maxMs, random = Math.random }) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** Parse an `X-Stream-Seq` header ("7=42,9=3") into a Map of group id to seq. */
export function parseStreamSeq(header) {
  const heads = new Map();
  for (const pair of (header || "").split(",")) {
    const [group, seq] = pair.split("=").map((part) => Number.parseInt(part, 10));
    if (Number.isInteger(group) && Number.isInteger(seq)) heads.set(group, seq);
  }
  return heads;
}

/** The REST list URL of one group's newest activities under a filter. */
export function activityListUrl(apiBase, groupId, { activityTypes, author, pageSize }) {
  const query = new URLSearchParams();
  query.set("workspace_group", String(groupId));
  query.set("is_active", "true");
  query.set("page_size", String(pageSize));
  for (const type of activityTypes || []) query.append("activity_type", String(type));
  if (author != null) query.set("user", String(author));
  return `${apiBase}user-activities/?${query}`;
}

function normaliseFilter({ activityTypes = null, author = null } = {}) {
  const types =
    activityTypes && activityTypes.length
      ? [...new Set(activityTypes.map(Number))].sort((a, b) => a - b)
      : null;
  return { activityTypes: types, author: author == null ? null : Number(author) };
}

export class FeedClient {
  /**
   * Options (all optional): url, apiBase, pageSize, heartbeatIntervalMs,
   * heartbeatTimeoutMs, backoffBaseMs, backoffMaxMs, offlineAfterAttempts; and for
   * tests or other runtimes: WebSocket, fetch, setTimeout, clearTimeout, random.
   */
  constructor(options = {}) {
    this.options = { ...DEFAULTS, ...options };
    this._WebSocket = options.WebSocket || globalThis.WebSocket;
    this._fetch = options.fetch || globalThis.fetch.bind(globalThis);
    this._setTimeout = options.setTimeout || globalThis.setTimeout.bind(globalThis);
    this._clearTimeout = options.clearTimeout || globalThis.clearTimeout.bind(globalThis);
    this._random = options.random || Math.random;
    // Where "online" events come from; the browser window by default.
    this._network =
      options.network === undefined
        ? typeof globalThis.addEventListener === "function"
          ? globalThis
          : null
        : options.network;
    this._onOnline = () => this._reconnectNow();
    this.groups = new Map();
    this.status = STATUS.CONNECTING;
    this.attempt = 0;
    this.socket = null;
    this._listeners = new Map();
    this._replies = [];
    this._reconnectTimer = null;
    this._pingTimer = null;
    this._pongTimer = null;
    this._running = false;
  }

  // -- listeners -------------------------------------------------------------------

  /** Register `fn` for `name` ("status", "snapshot", "activity", "error", "revoked"). */
  on(name, fn) {
    if (!this._listeners.has(name)) this._listeners.set(name, new Set());
    this._listeners.get(name).add(fn);
    return () => this._listeners.get(name).delete(fn);
  }

  _emit(name, detail) {
    for (const fn of this._listeners.get(name) || []) {
      try {
        fn(detail);
      } catch (error) {
        // A broken listener must not stop the feed for the others.
        console.error("feed-client listener failed", error);
      }
    }
  }

  // -- lifecycle -------------------------------------------------------------------

  /** Open the socket; watched groups are (re)subscribed whenever it opens. */
  start() {
    if (this._running) return;
    this._running = true;
    this._network?.addEventListener("online", this._onOnline);
    this._setStatus(STATUS.CONNECTING);
    this._connect();
  }

  /** Close the socket and stop every timer; watched groups are kept. */
  stop() {
    this._running = false;
    this._network?.removeEventListener("online", this._onOnline);
    this._clearTimer("_reconnectTimer");
    this._dropSocket(1000, "client stopped");
    this._setStatus(STATUS.OFFLINE);
  }

  /** Start (or restart, with a new filter) the feed of one workspace group. */
  watch(groupId, filter = {}) {
    const id = Number(groupId);
    let group = this.groups.get(id);
    if (!group) {
      group = { id, lastSeq: null, phase: "idle", pending: 0, load: 0, loadAttempt: 0 };
      group.retryTimer = null;
      this.groups.set(id, group);
    }
    Object.assign(group, normaliseFilter(filter));
    this.reload(id);
  }

  /** Stop the feed of one group; the server is told when the socket is open. */
  unwatch(groupId) {
    const group = this.groups.get(Number(groupId));
    if (!group) return;
    this._clearGroupRetry(group);
    this.groups.delete(group.id);
    if (group.phase !== "loading" && group.phase !== "idle") {
      this._send({ type: "unsubscribe", workspace_group: group.id }, {
        kind: "unsubscribe",
        group: group.id,
      });
    }
  }

  /** Refetch a group's snapshot over REST, then resubscribe from its seq. */
  reload(groupId) {
    const group = this.groups.get(Number(groupId));
    if (group) this._load(group);
  }

  /**
   * Fetch an older page of a group's feed from a REST `next` URL (or the newest page
   * when `url` is null). Resolves to { activities, next } under the group's filter.
   */
  async fetchPage(groupId, url = null) {
    const group = this.groups.get(Number(groupId));
    const filter = group || normaliseFilter();
    const target =
      url ||
      activityListUrl(this.options.apiBase, groupId, {
        ...filter,
        pageSize: this.options.pageSize,
      });
    const { body } = await this._getJson(target);
    return { activities: body.results, next: body.next };
  }

  // -- REST ------------------------------------------------------------------------

  async _getJson(url) {
    const response = await this._fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      const error = new Error(`GET ${url}: HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return { body: await response.json(), headers: response.headers };
  }

  async _load(group) {
    this._clearGroupRetry(group);
    const load = ++group.load;
    group.phase = "loading";
    const url = activityListUrl(this.options.apiBase, group.id, {
      activityTypes: group.activityTypes,
      author: group.author,
      pageSize: this.options.pageSize,
    });
    let page;
    try {
      page = await this._getJson(url);
    } catch (error) {
      if (load !== group.load || this.groups.get(group.id) !== group) return;
      this._emit("error", { group: group.id, code: "fetch_failed", detail: String(error) });
      if (error.status === 401 || error.status === 403) {
        this._refused("unauthenticated");
        return;
      }
      const delay = backoffDelay(group.loadAttempt++, this._backoff());
      group.retryTimer = this._setTimeout(() => this._load(group), delay);
      return;
    }
    if (load !== group.load || this.groups.get(group.id) !== group) return;
    group.loadAttempt = 0;
    const heads = parseStreamSeq(page.headers.get("X-Stream-Seq"));
    group.lastSeq = heads.has(group.id) ? heads.get(group.id) : null;
    this._emit("snapshot", {
      group: group.id,
      activities: page.body.results,
      next: page.body.next,
      seq: group.lastSeq,
    });
    this._subscribe(group);
  }

  _clearGroupRetry(group) {
    if (group.retryTimer !== null) this._clearTimeout(group.retryTimer);
    group.retryTimer = null;
  }

  // -- socket ----------------------------------------------------------------------

  _socketUrl() {
    const { url } = this.options;
    if (/^wss?:\/\//.test(url)) return url;
    const { protocol, host } = globalThis.location;
    return `${protocol === "https:" ? "wss:" : "ws:"}//${host}${url}`;
  }

  _connect() {
    this._reconnectTimer = null;
    if (!this._running) return;
    const socket = new this._WebSocket(this._socketUrl());
    this.socket = socket;
    this._replies = [];
    socket.onopen = () => {
      if (this.socket !== socket) return;
      // A pong (or a subscribed) on this socket is what makes the status "live".
      this._ping();
      for (const group of this.groups.values()) {
        if (group.phase !== "loading") this._subscribe(group);
      }
    };
    socket.onmessage = (message) => {
      if (this.socket === socket) this._receive(message.data);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this._closed(event.code);
    };
    socket.onerror = () => {
      // The close event that follows carries what is needed.
    };
  }

  _isOpen() {
    return this.socket !== null && this.socket.readyState === 1;
  }

  _send(frame, reply = null) {
    if (!this._isOpen()) return false;
    this.socket.send(JSON.stringify(frame));
    if (reply) this._replies.push(reply);
    return true;
  }

  _subscribe(group) {
    group.phase = "subscribing";
    const frame = { type: "subscribe", workspace_group: group.id };
    if (group.lastSeq !== null) frame.since = group.lastSeq;
    if (group.activityTypes) frame.activity_types = group.activityTypes;
    // Until the answer arrives, frames of the group belong to the old subscription
    // and are dropped: the new one replays everything after `since`.
    if (this._send(frame, { kind: "subscribe", group: group.id })) group.pending += 1;
  }

  _dropSocket(code, reason) {
    this._clearTimer("_pingTimer");
    this._clearTimer("_pongTimer");
    const socket = this.socket;
    this.socket = null;
    for (const group of this.groups.values()) {
      group.pending = 0;
      if (group.phase !== "loading") group.phase = "idle";
    }
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(code, reason);
      } catch {
        // Already closed or closing.
      }
    }
  }

  _closed(code) {
    this._dropSocket(1000, "closed");
    if (code === CLOSE.UNAUTHENTICATED) return this._refused("unauthenticated");
    if (code === CLOSE.FORBIDDEN) return this._refused("forbidden");
    // A resync close means "you were slow", not "the server is down": come back at
    // once, resuming from each group's last seq.
    this._scheduleReconnect(code === CLOSE.RESYNC ? 0 : null);
  }

  _refused(reason) {
    this._running = false;
    this._clearTimer("_reconnectTimer");
    this._dropSocket(1000, reason);
    this._setStatus(STATUS.OFFLINE, { reason });
  }

  _scheduleReconnect(delayMs = null) {
    if (!this._running || this._reconnectTimer !== null) return;
    const delay = delayMs ?? backoffDelay(this.attempt, this._backoff());
    this.attempt += 1;
    const status =
      this.attempt > this.options.offlineAfterAttempts
        ? STATUS.OFFLINE
        : STATUS.RECONNECTING;
    this._setStatus(status, { attempt: this.attempt, delayMs: delay });
    this._reconnectTimer = this._setTimeout(() => this._connect(), delay);
  }

  /** The network is back (the browser said so): skip the rest of the backoff. */
  _reconnectNow() {
    if (!this._running || this._reconnectTimer === null) return;
    this._clearTimer("_reconnectTimer");
    this._connect();
  }

  _backoff() {
    return {
      baseMs: this.options.backoffBaseMs,
      maxMs: this.options.backoffMaxMs,
      random: this._random,
    };
  }

  _setStatus(status, detail = {}) {
    const changed = status !== this.status;
    this.status = status;
    if (changed || status !== STATUS.LIVE) this._emit("status", { status, ...detail });
  }

  _live() {
    this.attempt = 0;
    if (this.status !== STATUS.LIVE) this._setStatus(STATUS.LIVE);
  }

  // -- heartbeat -------------------------------------------------------------------

  _ping() {
    this._clearTimer("_pingTimer");
    if (!this._send({ type: "ping" })) return;
    if (this._pongTimer === null) {
      this._pongTimer = this._setTimeout(() => {
        this._pongTimer = null;
        this._dropSocket(CLOSE_HEARTBEAT, "heartbeat timeout");
        this._scheduleReconnect();
      }, this.options.heartbeatTimeoutMs);
    }
    this._pingTimer = this._setTimeout(() => this._ping(), this.options.heartbeatIntervalMs);
  }

  _clearTimer(name) {
    if (this[name] !== null) this._clearTimeout(this[name]);
    this[name] = null;
  }

  // -- frames ----------------------------------------------------------------------

  _receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    switch (frame.type) {
      case "pong":
        this._clearTimer("_pongTimer");
        this._live();
        break;
      case "subscribed":
        this._onSubscribed(frame);
        break;
      case "unsubscribed":
        this._onUnsubscribed(frame);
        break;
      case "reset":
        this._onReset(frame);
        break;
      case "error":
        this._onError(frame);
        break;
      case "activity.created":
      case "activity.updated":
      case "activity.removed":
        this._onActivity(frame);
        break;
      default:
        break;
    }
  }

  _takeReply(kind, groupId) {
    const index = this._replies.findIndex(
      (reply) => reply.kind === kind && (groupId === null || reply.group === groupId),
    );
    return index === -1 ? null : this._replies.splice(index, 1)[0];
  }

  _onSubscribed(frame) {
    this._takeReply("subscribe", frame.workspace_group);
    this._live();
    const group = this.groups.get(frame.workspace_group);
    if (!group) return;
    group.pending = Math.max(0, group.pending - 1);
    if (group.pending > 0 || group.phase !== "subscribing") return;
    if (group.lastSeq === null) group.lastSeq = frame.seq;
    group.phase = "live";
  }

  _onUnsubscribed(frame) {
    if (frame.reason === "client") {
      this._takeReply("unsubscribe", frame.workspace_group);
      return;
    }
    const group = this.groups.get(frame.workspace_group);
    if (!group) return;
    this._clearGroupRetry(group);
    this.groups.delete(group.id);
    this._emit("revoked", { group: group.id, reason: frame.reason });
  }

  _onReset(frame) {
    const group = this.groups.get(frame.workspace_group);
    if (!group || group.pending > 0 || group.phase === "loading") return;
    this._load(group);
  }

  _onError(frame) {
    if (frame.code === "rate_limited") {
      // The refused frame is not answered, so replies no longer line up: start over.
      this._dropSocket(1000, "rate limited");
      this._scheduleReconnect();
      return;
    }
    // Answers come in request order; an error answers the oldest open request.
    const reply = this._replies.shift() || null;
    const groupId = reply ? reply.group : null;
    const group = groupId === null ? undefined : this.groups.get(groupId);
    if (reply && reply.kind === "subscribe" && group) {
      group.pending = Math.max(0, group.pending - 1);
      if (frame.code === "not_found") {
        this._clearGroupRetry(group);
        this.groups.delete(group.id);
      }
    }
    this._emit("error", { group: groupId, code: frame.code, detail: frame.detail });
  }

  _onActivity(frame) {
    const group = this.groups.get(frame.workspace_group);
    if (!group || group.pending > 0 || group.phase !== "live") return;
    if (frame.seq <= group.lastSeq) return;
    if (group.activityTypes === null && frame.seq > group.lastSeq + 1) {
      // Unfiltered, the server sends every seq: a gap is loss. Ask for a replay.
      this._emit("error", {
        group: group.id,
        code: "gap",
        detail: `expected seq ${group.lastSeq + 1}, got ${frame.seq}`,
      });
      this._subscribe(group);
      return;
    }
    group.lastSeq = frame.seq;
    let kind = frame.type.slice("activity.".length);
    const activity = frame.activity;
    if (group.author !== null && (activity.user || {}).id !== group.author) return;
    if (
      kind !== "removed" &&
      group.activityTypes !== null &&
      !group.activityTypes.includes(activity.activity_type)
    ) {
      // Its type changed to one the filter excludes: for this feed it has left.
      kind = "removed";
    }
    this._emit("activity", { group: group.id, kind, activity, seq: frame.seq });
  }
}
