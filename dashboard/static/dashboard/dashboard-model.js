/**
 * dashboard-model.js: the dashboard's logic that needs no DOM, so node can test it.
 *
 * - CATEGORY_STYLE: a colour and a small line icon per category. Icons are SVG
 *   shapes, not font glyphs, so they look the same whatever fonts a wall screen has.
 * - Stats: counts per category and per minute of the activities it was told about,
 *   restricted to the ones the current filters match (the rows the feeds show).
 * - Small wording helpers for the feed columns.
 */

// Shapes in a 16x16 box, drawn with a 1.6 stroke in the category colour. A shape
// with `fill: "currentColor"` is filled instead.
export const CATEGORY_STYLE = Object.freeze({
  session: {
    colour: "#94a3b8",
    icon: [
      ["path", { d: "M8 1.8v5.6" }],
      ["path", { d: "M4.6 4.2a5.2 5.2 0 1 0 6.8 0" }],
    ],
  },
  game: {
    colour: "#f97316",
    icon: [
      ["rect", { x: 2.2, y: 2.2, width: 11.6, height: 11.6, rx: 2.4 }],
      ["circle", { cx: 5.4, cy: 5.4, r: 1.1, fill: "currentColor", stroke: "none" }],
      ["circle", { cx: 8, cy: 8, r: 1.1, fill: "currentColor", stroke: "none" }],
      ["circle", { cx: 10.6, cy: 10.6, r: 1.1, fill: "currentColor", stroke: "none" }],
    ],
  },
  streak: {
    colour: "#facc15",
    icon: [["path", { d: "M9.2 1.5 3.6 9h4.1l-1 5.5L12.4 7H8.3z" }]],
  },
  elo: {
    colour: "#eab308",
    icon: [
      ["path", { d: "M5 13.5V2.8M2.6 5.2 5 2.8l2.4 2.4" }],
      ["path", { d: "M11 2.5v10.7M8.6 10.8l2.4 2.4 2.4-2.4" }],
    ],
  },
  xp: {
    colour: "#a3e635",
    icon: [["path", { d: "m8 1.8 1.9 4 4.3.5-3.2 2.9.9 4.3L8 11.3l-3.9 2.2.9-4.3-3.2-2.9 4.3-.5z" }]],
  },
  resource: {
    colour: "#38bdf8",
    icon: [
      ["path", { d: "M8 2 14 5 8 8 2 5z" }],
      ["path", { d: "m2 8.2 6 3 6-3M2 11.2l6 3 6-3" }],
    ],
  },
  quest: {
    colour: "#fb7185",
    icon: [["path", { d: "M3.5 14.5V2M3.5 2.6h8.8l-2.2 3.2 2.2 3.2H3.5" }]],
  },
  publication: {
    colour: "#c084fc",
    icon: [
      ["path", { d: "M1.8 3.4c2.2-1 4.2-.9 6.2.6 2-1.5 4-1.6 6.2-.6v9.3c-2.2-1-4.2-.9-6.2.6-2-1.5-4-1.6-6.2-.6z" }],
      ["path", { d: "M8 4v9.3" }],
    ],
  },
  blog: {
    colour: "#f472b6",
    icon: [["path", { d: "m10.6 2.4 3 3L6 13H3v-3zM9 4l3 3" }]],
  },
  experience: {
    colour: "#2dd4bf",
    icon: [
      ["circle", { cx: 8, cy: 8, r: 6.2 }],
      ["path", { d: "m10.8 5.2-1.6 4-4 1.6 1.6-4z" }],
    ],
  },
  ai: {
    colour: "#818cf8",
    icon: [
      ["path", { d: "M7 1.8c.5 3 1.6 4.3 4.6 4.8-3 .5-4.1 1.8-4.6 4.8-.5-3-1.6-4.3-4.6-4.8 3-.5 4.1-1.8 4.6-4.8z" }],
      ["path", { d: "M12.5 10.5v3.6M10.7 12.3h3.6" }],
    ],
  },
  podcast: {
    colour: "#fb923c",
    icon: [
      ["rect", { x: 5.8, y: 1.6, width: 4.4, height: 8, rx: 2.2 }],
      ["path", { d: "M3.4 7.6a4.6 4.6 0 0 0 9.2 0M8 12.2v2.4" }],
    ],
  },
  video: {
    colour: "#f87171",
    icon: [
      ["rect", { x: 1.6, y: 3, width: 12.8, height: 10, rx: 2.2 }],
      ["path", { d: "M6.6 5.6v4.8L10.6 8z", fill: "currentColor", stroke: "none" }],
    ],
  },
  document: {
    colour: "#60a5fa",
    icon: [
      ["path", { d: "M3.6 1.6h5.8l3 3v9.8H3.6z" }],
      ["path", { d: "M9.4 1.6v3h3M5.8 8h4.4M5.8 10.8h4.4" }],
    ],
  },
  profile: {
    colour: "#4ade80",
    icon: [
      ["circle", { cx: 8, cy: 5.4, r: 2.8 }],
      ["path", { d: "M2.6 14.4c.8-2.9 2.9-4.4 5.4-4.4s4.6 1.5 5.4 4.4" }],
    ],
  },
  social: {
    colour: "#e879f9",
    icon: [["path", { d: "M8 13.6S1.8 9.9 1.8 5.9a3.1 3.1 0 0 1 6.2-.9 3.1 3.1 0 0 1 6.2.9c0 4-6.2 7.7-6.2 7.7z" }]],
  },
  collection: {
    colour: "#22d3ee",
    icon: [
      ["rect", { x: 2, y: 2, width: 5, height: 5, rx: 1.2 }],
      ["rect", { x: 9, y: 2, width: 5, height: 5, rx: 1.2 }],
      ["rect", { x: 2, y: 9, width: 5, height: 5, rx: 1.2 }],
      ["rect", { x: 9, y: 9, width: 5, height: 5, rx: 1.2 }],
    ],
  },
});

export function categoryStyle(category) {
  return CATEGORY_STYLE[category] || CATEGORY_STYLE.session;
}

// -- filters -------------------------------------------------------------------------

/** The activity type values a type-filter value selects; null for "all types". */
export function typesForFilter(value, activityTypes) {
  if (!value) return null;
  if (value.startsWith("cat:")) {
    const category = value.slice(4);
    return activityTypes.filter((t) => t.category === category).map((t) => t.value);
  }
  return [Number(value)];
}

/** Whether `{ type, user }` passes `{ activityTypes, author }` (null: anything). */
export function filterMatches({ activityTypes, author }, { type, user }) {
  if (activityTypes && !activityTypes.includes(Number(type))) return false;
  if (author != null && Number(user) !== Number(author)) return false;
  return true;
}

export function filterActive({ activityTypes, author }) {
  return Boolean(activityTypes) || author != null;
}

// -- counts per category and per minute --------------------------------------------

const LARGEST_WINDOW_MS = 60 * 60_000;

export class Stats {
  /** `categoryOf(activity)` names an activity's category. */
  constructor(categoryOf) {
    this.categoryOf = categoryOf;
    this.entries = new Map();
  }

  key(groupId, activity) {
    return `${groupId}:${activity.id}`;
  }

  add(groupId, activity) {
    this.entries.set(this.key(groupId, activity), {
      at: Date.parse(activity.created_at),
      category: this.categoryOf(activity),
      type: activity.activity_type,
      user: activity.user ? activity.user.id : null,
    });
  }

  addMany(groupId, activities) {
    for (const activity of activities) this.add(groupId, activity);
  }

  remove(groupId, activity) {
    this.entries.delete(this.key(groupId, activity));
  }

  dropGroup(groupId) {
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(`${groupId}:`)) this.entries.delete(key);
    }
  }

  /**
   * Forget what `filter` excludes. Under a filter no events arrive for the rest,
   * so those entries could go stale; widening the filter again refetches them.
   */
  keepOnly(filter) {
    for (const [key, entry] of this.entries) {
      if (!filterMatches(filter, entry)) this.entries.delete(key);
    }
  }

  clear() {
    this.entries.clear();
  }

  /**
   * Counts per category and per minute (oldest first) over the last `minutes`, of
   * the entries `filter` matches.
   */
  summary(minutes, now, filter = { activityTypes: null, author: null }) {
    const start = now - minutes * 60_000;
    const perCategory = new Map();
    const perMinute = new Array(minutes).fill(0);
    let total = 0;
    for (const [key, entry] of this.entries) {
      const { at, category } = entry;
      if (at < now - LARGEST_WINDOW_MS - 60_000) {
        // Older than the largest window: never counted again.
        this.entries.delete(key);
        continue;
      }
      if (at < start || at > now + 60_000) continue;
      if (!filterMatches(filter, entry)) continue;
      total += 1;
      perCategory.set(category, (perCategory.get(category) || 0) + 1);
      const bucket = Math.min(minutes - 1, Math.max(0, Math.floor((at - start) / 60_000)));
      perMinute[bucket] += 1;
    }
    return { total, perCategory, perMinute };
  }
}

// -- wording -------------------------------------------------------------------------

/** The line under a feed's rows. */
export function footerText({ loading, loaded, hasOlder, shown, filtered }) {
  if (loading) return "Loading older activities…";
  if (!loaded) return "Loading…";
  if (hasOlder) return "Scroll for older activities";
  if (shown) return "No older activities";
  return filtered ? "No activities match these filters" : "Nothing here yet";
}

/** The cue for edited rows the reader has not scrolled to yet; "" for none. */
export function updatesBelowText(count) {
  if (!count) return "";
  return count === 1 ? "1 update below" : `${count} updates below`;
}

/** The cue for new rows that arrived above while the reader was scrolled down; "" for none. */
export function updatesAboveText(count) {
  if (!count) return "";
  return `${count} new`;
}
