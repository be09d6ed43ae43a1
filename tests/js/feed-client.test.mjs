// Unit tests of dashboard/static/dashboard/feed-client.js with a fake socket, a fake
// fetch and a fake clock: nothing here waits on real time or the network.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CLOSE,
  FeedClient,
  STATUS,
  backoffDelay,
  parseStreamSeq,
} from "../../dashboard/static/dashboard/feed-client.js";

class FakeClock {
  constructor() {
    this.now = 0;
    this.timers = new Map();
    this.nextId = 1;
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++;
      this.timers.set(id, { fn, at: this.now + ms });
      return id;
    };
    this.clearTimeout = (id) => this.timers.delete(id);
  }

  /** Run every timer due within `ms`, in order, including ones they schedule. */
  advance(ms) {
    const end = this.now + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      let next = null;
      for (const [id, timer] of this.timers) {
        if (timer.at <= end && (next === null || timer.at < next[1].at)) next = [id, timer];
      }
      if (next === null) break;
      this.timers.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = end;
  }

  delays() {
    return [...this.timers.values()].map((timer) => timer.at - this.now);
  }
}

function fakeSocketClass() {
  const sockets = [];
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.closedWith = null;
      sockets.push(this);
    }
    send(text) {
      this.sent.push(JSON.parse(text));
    }
    close(code) {
      this.closedWith = code;
      this.readyState = 3;
    }
    // Test side.
    open() {
      this.readyState = 1;
      this.onopen?.({});
    }
    deliver(frame) {
      this.onmessage?.({ data: JSON.stringify(frame) });
    }
    drop(code = 1006) {
      this.readyState = 3;
      this.onclose?.({ code });
    }
    frames(type) {
      return this.sent.filter((frame) => frame.type === type);
    }
  }
  return { FakeSocket, sockets };
}

function activity(id, { type = 200, user = 1, text = `activity ${id}` } = {}) {
  return { id, activity_type: type, text, user: { id: user, username: `u${user}` } };
}

function fakeFetch(pages) {
  const calls = [];
  const fetch = async (url) => {
    calls.push(url);
    const page = pages.shift() || { seq: "", results: [] };
    return {
      ok: true,
      status: 200,
      headers: { get: (name) => (name === "X-Stream-Seq" ? page.seq : null) },
      json: async () => ({ next: page.next ?? null, previous: null, results: page.results }),
    };
  };
  return { fetch, calls };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function makeClient(pages, options = {}) {
  const clock = new FakeClock();
  const { FakeSocket, sockets } = fakeSocketClass();
  const { fetch, calls } = fakeFetch(pages);
  const client = new FeedClient({
    url: "ws://127.0.0.1/ws/activities/",
    WebSocket: FakeSocket,
    fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 0.5,
    network: null,
    ...options,
  });
  const seen = { activity: [], snapshot: [], status: [], error: [] };
  for (const name of Object.keys(seen)) client.on(name, (detail) => seen[name].push(detail));
  return { client, clock, sockets, calls, seen };
}

/** A client watching group 7, snapshot at seq `seq`, subscribed and live. */
async function liveClient({ seq = 5, filter = {}, options = {}, pages = [] } = {}) {
  const ctx = makeClient(
    [{ seq: `7=${seq}`, results: [activity(1)] }, ...pages],
    options,
  );
  ctx.client.start();
  ctx.client.watch(7, filter);
  await settle();
  const socket = ctx.sockets[0];
  socket.open();
  socket.deliver({ type: "pong" });
  socket.deliver({ type: "subscribed", workspace_group: 7, seq });
  return { ...ctx, socket };
}

function event(seq, id, kind = "created", extra = {}) {
  return { type: `activity.${kind}`, workspace_group: 7, seq, activity: activity(id, extra) };
}

test("subscribe uses the seq read with the REST snapshot as since", async () => {
  const { socket, seen, calls } = await liveClient({ seq: 5 });

  assert.deepEqual(socket.frames("subscribe"), [
    { type: "subscribe", workspace_group: 7, since: 5 },
  ]);
  assert.equal(seen.snapshot.length, 1);
  assert.deepEqual(seen.snapshot[0].activities, [activity(1)]);
  assert.match(calls[0], /workspace_group=7/);
  assert.equal(seen.status.at(-1).status, STATUS.LIVE);
});

test("resume after a drop resubscribes with since = last seq seen", async () => {
  const { client, clock, sockets, socket, seen } = await liveClient({ seq: 5 });
  socket.deliver(event(6, 10));
  socket.deliver(event(7, 11));

  socket.drop(1006);
  assert.equal(seen.status.at(-1).status, STATUS.RECONNECTING);
  clock.advance(60_000);
  const second = sockets[1];
  assert.ok(second, "a new socket was opened");
  second.open();

  assert.deepEqual(second.frames("subscribe"), [
    { type: "subscribe", workspace_group: 7, since: 7 },
  ]);
  second.deliver({ type: "subscribed", workspace_group: 7, seq: 9 });
  second.deliver(event(8, 12));
  second.deliver(event(9, 13));
  assert.deepEqual(
    seen.activity.map((item) => item.seq),
    [6, 7, 8, 9],
  );
  assert.equal(client.status, STATUS.LIVE);
});

test("a replayed seq is delivered once", async () => {
  const { socket, seen } = await liveClient({ seq: 5 });

  socket.deliver(event(6, 10));
  socket.deliver(event(6, 10));
  socket.deliver(event(5, 9));
  socket.deliver(event(7, 11, "updated"));

  assert.deepEqual(
    seen.activity.map((item) => [item.seq, item.kind, item.activity.id]),
    [
      [6, "created", 10],
      [7, "updated", 11],
    ],
  );
});

test("reset refetches the group over REST and resubscribes from the new seq", async () => {
  const { socket, seen, calls } = await liveClient({
    seq: 5,
    pages: [{ seq: "7=40", results: [activity(30), activity(29)] }],
  });

  socket.deliver({ type: "reset", workspace_group: 7, seq: 40 });
  // Events that arrive while the refetch is in flight are left to the replay.
  socket.deliver(event(41, 31));
  await settle();

  assert.equal(calls.length, 2);
  assert.equal(seen.snapshot.length, 2);
  assert.deepEqual(
    seen.snapshot[1].activities.map((item) => item.id),
    [30, 29],
  );
  assert.deepEqual(socket.frames("subscribe").at(-1), {
    type: "subscribe",
    workspace_group: 7,
    since: 40,
  });
  socket.deliver({ type: "subscribed", workspace_group: 7, seq: 41 });
  socket.deliver(event(41, 31));
  assert.deepEqual(
    seen.activity.map((item) => item.seq),
    [41],
  );
});

test("backoff grows with jitter and is capped", () => {
  const options = { baseMs: 1000, maxMs: 30_000 };
  const low = [0, 1, 2, 3, 4, 5, 6, 10].map((n) =>
    backoffDelay(n, { ...options, random: () => 0 }),
  );
  const high = [0, 1, 2, 3, 4, 5, 6, 10].map((n) =>
    backoffDelay(n, { ...options, random: () => 0.999999 }),
  );

  assert.deepEqual(low, [500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
  for (let i = 1; i < 5; i++) assert.ok(low[i] > low[i - 1], "the floor grows");
  for (const delay of high) assert.ok(delay <= 30_000, `${delay} is under the cap`);
  assert.ok(high[10 - 3] > 29_000, "the cap is reached");
  assert.ok(high[0] > low[0], "jitter spreads each step");
});

test("reconnect delays follow the backoff and the status turns offline", async () => {
  const { clock, sockets, seen } = makeClient([], { random: () => 1 });
  const delays = [];
  const statuses = [];
  sockets.length = 0;
  const client = new FeedClient({
    url: "ws://127.0.0.1/ws/activities/",
    WebSocket: class {
      constructor() {
        sockets.push(this);
        this.readyState = 0;
      }
      close() {}
    },
    setTimeout: (fn, ms) => {
      delays.push(ms);
      return clock.setTimeout(fn, ms);
    },
    clearTimeout: clock.clearTimeout,
    random: () => 1,
    fetch: async () => assert.fail("no REST call without groups"),
    network: null,
  });
  client.on("status", ({ status }) => statuses.push(status));
  client.start();
  for (let i = 0; i < 8; i++) {
    sockets.at(-1).onclose({ code: 1006 });
    clock.advance(60_000);
  }

  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  assert.equal(sockets.length, 9);
  assert.equal(statuses[0], STATUS.CONNECTING);
  assert.equal(statuses[1], STATUS.RECONNECTING);
  assert.equal(statuses.at(-1), STATUS.OFFLINE);
  assert.equal(seen.status.length, 0);
});

test("gaps under a type filter are filtered events, not loss", async () => {
  const { socket, seen } = await liveClient({
    seq: 5,
    filter: { activityTypes: [200, 201] },
  });

  socket.deliver(event(8, 10, "created", { type: 200 }));
  socket.deliver(event(12, 11, "created", { type: 201 }));

  assert.deepEqual(socket.frames("subscribe"), [
    { type: "subscribe", workspace_group: 7, since: 5, activity_types: [200, 201] },
  ]);
  assert.deepEqual(
    seen.activity.map((item) => item.seq),
    [8, 12],
  );
  assert.equal(seen.error.length, 0);
});

test("a gap without a filter is loss: the group resubscribes from its last seq", async () => {
  const { socket, seen } = await liveClient({ seq: 5 });

  socket.deliver(event(6, 10));
  socket.deliver(event(9, 13));

  assert.deepEqual(socket.frames("subscribe").at(-1), {
    type: "subscribe",
    workspace_group: 7,
    since: 6,
  });
  assert.equal(seen.error.at(-1).code, "gap");
  socket.deliver(event(10, 14)); // sent under the old subscription: dropped
  socket.deliver({ type: "subscribed", workspace_group: 7, seq: 9 });
  socket.deliver(event(7, 11));
  socket.deliver(event(8, 12));
  socket.deliver(event(9, 13));
  assert.deepEqual(
    seen.activity.map((item) => item.seq),
    [6, 7, 8, 9],
  );
});

test("heartbeat pings every interval and a missing pong forces a reconnect", async () => {
  const { clock, sockets, socket, seen } = await liveClient({
    seq: 5,
    options: { heartbeatIntervalMs: 20_000, heartbeatTimeoutMs: 5_000 },
  });
  assert.equal(socket.frames("ping").length, 1);

  clock.advance(20_000);
  assert.equal(socket.frames("ping").length, 2);
  socket.deliver({ type: "pong" });
  clock.advance(20_000);
  assert.equal(socket.frames("ping").length, 3);
  assert.equal(sockets.length, 1, "answered pings keep the socket");

  clock.advance(5_000);
  assert.equal(socket.closedWith, 4000);
  assert.equal(seen.status.at(-1).status, STATUS.RECONNECTING);
  clock.advance(60_000);
  assert.equal(sockets.length, 2);
  sockets[1].open();
  assert.deepEqual(sockets[1].frames("subscribe"), [
    { type: "subscribe", workspace_group: 7, since: 5 },
  ]);
});

test("the author filter goes to the REST query and drops other authors' events", async () => {
  const { socket, seen, calls } = await liveClient({ seq: 5, filter: { author: 3 } });

  socket.deliver(event(6, 10, "created", { user: 4 }));
  socket.deliver(event(7, 11, "created", { user: 3 }));

  assert.match(calls[0], /[?&]user=3(&|$)/);
  assert.equal(socket.frames("subscribe")[0].activity_types, undefined);
  assert.deepEqual(
    seen.activity.map((item) => item.activity.id),
    [11],
  );
});

test("changing the type filter refetches and resubscribes with since", async () => {
  const { client, socket, seen, calls } = await liveClient({
    seq: 5,
    pages: [{ seq: "7=9", results: [activity(20, { type: 300 })] }],
  });

  client.watch(7, { activityTypes: [300] });
  socket.deliver(event(6, 10, "created", { type: 200 })); // old subscription
  await settle();

  assert.match(calls[1], /activity_type=300/);
  assert.deepEqual(socket.frames("subscribe").at(-1), {
    type: "subscribe",
    workspace_group: 7,
    since: 9,
    activity_types: [300],
  });
  assert.equal(seen.activity.length, 0);
  assert.deepEqual(
    seen.snapshot.at(-1).activities.map((item) => item.id),
    [20],
  );
});

test("close 4401 stops reconnecting and reads offline", async () => {
  const { clock, sockets, socket, seen } = await liveClient();

  socket.drop(CLOSE.UNAUTHENTICATED);
  clock.advance(120_000);

  assert.equal(sockets.length, 1);
  assert.deepEqual(seen.status.at(-1), { status: STATUS.OFFLINE, reason: "unauthenticated" });
});

test("a resync close reconnects at once", async () => {
  const { clock, sockets, socket } = await liveClient({ seq: 5 });
  socket.deliver(event(6, 10));

  socket.drop(CLOSE.RESYNC);
  clock.advance(0);

  assert.equal(sockets.length, 2);
  sockets[1].open();
  assert.equal(sockets[1].frames("subscribe")[0].since, 6);
});

test("X-Stream-Seq parses into group ids and seqs", () => {
  assert.deepEqual([...parseStreamSeq("7=42,9=3")], [
    [7, 42],
    [9, 3],
  ]);
  assert.equal(parseStreamSeq("").size, 0);
  assert.equal(parseStreamSeq(null).size, 0);
});

test("the browser coming back online skips the rest of the backoff", async () => {
  const network = new EventTarget();
  const { clock, sockets, socket } = await liveClient({ seq: 5, options: { network } });

  socket.drop(1006);
  clock.advance(100);
  assert.equal(sockets.length, 1, "still waiting out the backoff");
  network.dispatchEvent(new Event("online"));

  assert.equal(sockets.length, 2);
  sockets[1].open();
  assert.equal(sockets[1].frames("subscribe")[0].since, 5);
});
