// Unit tests of dashboard/static/dashboard/dashboard-model.js: the dashboard's
// counting and wording, without a browser.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CATEGORY_STYLE,
  Stats,
  filterActive,
  filterMatches,
  footerText,
  typesForFilter,
  updatesAboveText,
  updatesBelowText,
} from "../../dashboard/static/dashboard/dashboard-model.js";

const TYPES = [
  { value: 100, category: "session" },
  { value: 204, category: "game" },
  { value: 205, category: "game" },
  { value: 750, category: "blog" },
];
const CATEGORY = new Map(TYPES.map((t) => [t.value, t.category]));
const NOW = Date.parse("2030-01-01T12:00:00Z");

function activity(id, type, user, minutesAgo = 1) {
  return {
    id,
    activity_type: type,
    user: { id: user },
    created_at: new Date(NOW - minutesAgo * 60_000).toISOString(),
  };
}

function stats() {
  const counts = new Stats((a) => CATEGORY.get(a.activity_type));
  counts.addMany(1, [activity(1, 204, 7), activity(2, 750, 7), activity(3, 205, 8, 3)]);
  counts.addMany(2, [activity(4, 100, 8)]);
  return counts;
}

function filter(type = "", author = null) {
  return { activityTypes: typesForFilter(type, TYPES), author };
}

test("typesForFilter reads a category, a single type, or nothing", () => {
  assert.equal(typesForFilter("", TYPES), null);
  assert.deepEqual(typesForFilter("cat:game", TYPES), [204, 205]);
  assert.deepEqual(typesForFilter("750", TYPES), [750]);
});

test("filterMatches and filterActive follow the type and the author", () => {
  assert.ok(filterMatches(filter(), { type: 750, user: 7 }));
  assert.ok(filterMatches(filter("cat:game"), { type: 204, user: 7 }));
  assert.ok(!filterMatches(filter("cat:game"), { type: 750, user: 7 }));
  assert.ok(!filterMatches(filter("", 8), { type: 750, user: 7 }));
  assert.ok(filterMatches(filter("cat:game", 8), { type: 205, user: 8 }));
  assert.equal(filterActive(filter()), false);
  assert.equal(filterActive(filter("cat:game")), true);
  assert.equal(filterActive(filter("", 8)), true);
});

test("summary counts everything without a filter", () => {
  const { total, perCategory, perMinute } = stats().summary(5, NOW);
  assert.equal(total, 4);
  assert.deepEqual(Object.fromEntries(perCategory), { game: 2, blog: 1, session: 1 });
  assert.deepEqual(perMinute, [0, 0, 1, 0, 3]);
});

test("summary follows a type filter at once, with no new data", () => {
  const { total, perCategory } = stats().summary(15, NOW, filter("cat:game"));
  assert.equal(total, 2);
  assert.deepEqual(Object.fromEntries(perCategory), { game: 2 });
});

test("summary follows the author filter, alone and with a type", () => {
  assert.equal(stats().summary(15, NOW, filter("", 8)).total, 2);
  const both = stats().summary(15, NOW, filter("cat:game", 8));
  assert.equal(both.total, 1);
  assert.deepEqual(Object.fromEntries(both.perCategory), { game: 1 });
});

test("keepOnly forgets what a filter excludes; refetched rows are counted once", () => {
  const counts = stats();
  counts.keepOnly(filter("cat:game"));
  assert.equal(counts.entries.size, 2);
  counts.addMany(1, [activity(1, 204, 7), activity(2, 750, 7)]);
  assert.equal(counts.summary(15, NOW).total, 3);
});

test("the footer says when a filter, not the feed, is why a column is empty", () => {
  const done = { loading: false, loaded: true, hasOlder: false, shown: 0 };
  assert.equal(footerText({ ...done, filtered: false }), "Nothing here yet");
  assert.equal(footerText({ ...done, filtered: true }), "No activities match these filters");
  assert.equal(footerText({ ...done, shown: 3, filtered: true }), "No older activities");
  assert.equal(footerText({ ...done, loaded: false, filtered: true }), "Loading…");
  assert.equal(footerText({ ...done, hasOlder: true, filtered: true }), "Scroll for older activities");
});

test("the cue for edits below counts them", () => {
  assert.equal(updatesBelowText(0), "");
  assert.equal(updatesBelowText(1), "1 update below");
  assert.equal(updatesBelowText(4), "4 updates below");
});

test("the cue for new rows above counts them, and is empty for none", () => {
  assert.equal(updatesAboveText(0), "");
  assert.equal(updatesAboveText(1), "1 new");
  assert.equal(updatesAboveText(12), "12 new");
});

test("every category has a colour and an SVG icon, none a font glyph", () => {
  const categories = [
    "session", "game", "streak", "elo", "xp", "resource", "quest", "publication", "blog",
    "experience", "ai", "podcast", "video", "document", "profile", "social", "collection",
  ];
  assert.deepEqual(Object.keys(CATEGORY_STYLE).sort(), [...categories].sort());
  for (const [name, { colour, icon }] of Object.entries(CATEGORY_STYLE)) {
    assert.match(colour, /^#[0-9a-f]{6}$/, name);
    assert.ok(Array.isArray(icon) && icon.length > 0, name);
    for (const [tag, attributes] of icon) {
      assert.ok(["path", "rect", "circle"].includes(tag), `${name}: ${tag}`);
      assert.ok(Object.keys(attributes).length > 0, name);
    }
  }
});
