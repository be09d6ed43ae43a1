/**
 * dashboard.js: the live feed page. Rendering only; syncing lives in feed-client.js.
 *
 * Guarantees of the page:
 * - User data reaches the DOM through textContent and attributes only, never as
 *   markup, so an activity text like `<img onerror=...>` is shown as text.
 * - Each feed shows at most MAX_ROWS rows. New activities push the oldest rows out;
 *   scrolling to the end pages older ones in over REST, and when that overflows the
 *   window the newest rows leave and a "newer activities" button brings them back.
 * - The live region announces a summary ("3 new activities in Design team") at most
 *   once per ANNOUNCE_EVERY_MS, never one message per event.
 * - Rows that change out of sight get a cue at that edge of their column: "↓ N
 *   updates below" for edits, "↑ N new" for activities that arrived above while the
 *   reader was scrolled down. Neither is a live region.
 * - When the socket is not live the feeds and counts are dimmed and the connection
 *   pill says how long ago the page last knew they were current.
 * - Selected groups, filters, window and wall mode are kept in the URL fragment, so a
 *   wall screen can be bookmarked as it is set up.
 */

import {
  Stats,
  categoryStyle,
  filterActive,
  footerText,
  typesForFilter,
  updatesAboveText,
  updatesBelowText,
} from "./dashboard-model.js";
import { FeedClient, STATUS, activityListUrl } from "./feed-client.js";

const MAX_ROWS = 200;
const PAGE_SIZE = 50;
// Enough to count an hour of a busy group without flooding the server.
const STATS_PAGE_SIZE = 200;
const STATS_MAX_PAGES = 10;
// Walking the cursor chain to find our place again after rows were trimmed.
const RELOCATE_MAX_PAGES = 10;
const ANNOUNCE_EVERY_MS = 5_000;
const TICK_MS = 1_000;
const MAX_DEFAULT_FEEDS = 4;
// Creating a row stamps created_at and updated_at microseconds apart; a change
// later than this is an edit.
const EDITED_AFTER_MS = 250;


const boot = JSON.parse(document.getElementById("dashboard-boot").textContent);
const typeInfo = new Map(boot.activity_types.map((type) => [type.value, type]));
const categoryLabel = new Map(boot.categories.map((c) => [c.value, c.label]));

// -- small DOM helpers --------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/** A category's icon as inline SVG in the current text colour. */
function categoryIcon(category) {
  const icon = svg("svg", {
    class: "badge-icon",
    viewBox: "0 0 16 16",
    width: 14,
    height: 14,
    fill: "none",
    stroke: "currentColor",
    "stroke-width": 1.6,
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
    "aria-hidden": "true",
    focusable: "false",
  });
  for (const [tag, attributes] of categoryStyle(category).icon) icon.append(svg(tag, attributes));
  return icon;
}

const relativeFormat = new Intl.RelativeTimeFormat("en", { numeric: "auto", style: "short" });

function relativeTime(iso, now) {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 10) return "just now";
  if (abs < 60) return relativeFormat.format(seconds, "second");
  if (abs < 3600) return relativeFormat.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return relativeFormat.format(Math.round(seconds / 3600), "hour");
  return relativeFormat.format(Math.round(seconds / 86_400), "day");
}

function displayName(user) {
  const full = [user.first_name, user.last_name].filter(Boolean).join(" ");
  return full || user.username || `user ${user.id}`;
}

function initials(user) {
  const parts = [user.first_name, user.last_name].filter(Boolean);
  const source = parts.length ? parts : [user.username || "?"];
  return source
    .map((part) => part.trim()[0] || "")
    .join("")
    .slice(0, 2)
    .toUpperCase();
}

function hue(number) {
  return (Number(number) * 137) % 360;
}

// Only http(s) and same-origin paths become image sources.
function safeImageUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function typeOf(activity) {
  return (
    typeInfo.get(activity.activity_type) || {
      value: activity.activity_type,
      label: `Type ${activity.activity_type}`,
      category: "session",
    }
  );
}

// -- state in the URL fragment ------------------------------------------------------

function readState() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const groups = (params.get("groups") || "")
    .split(",")
    .map((part) => Number.parseInt(part, 10))
    .filter(Number.isInteger);
  return {
    groups: groups.length ? groups : null,
    type: params.get("type") || "",
    author: params.get("author") || "",
    window: [5, 15, 60].includes(Number(params.get("window"))) ? Number(params.get("window")) : 15,
    wall: params.get("wall") === "1",
  };
}

function writeState(state) {
  const params = new URLSearchParams();
  // Groups are null until they are loaded; a setting changed before then is kept.
  params.set("groups", (state.groups || []).join(","));
  if (state.type) params.set("type", state.type);
  if (state.author) params.set("author", state.author);
  params.set("window", String(state.window));
  if (state.wall) params.set("wall", "1");
  history.replaceState(null, "", `#${params}`);
}

// -- one feed column ----------------------------------------------------------------

class FeedView {
  constructor(group, page) {
    this.group = group;
    this.page = page;
    this.rows = new Map();
    this.next = null;
    this.cursorStale = false;
    this.loadingOlder = false;
    this.atLatest = true;
    this.missed = 0;
    this.loaded = false;
    // Ids of rows edited while below the visible part, not yet scrolled to.
    this.below = new Set();
    this.seen = new IntersectionObserver((entries) => this.onSeen(entries), { threshold: 0.5 });
    // Ids of new rows inserted above the visible part, not yet scrolled to. A separate
    // observer: an edit of such a row must not stop its tracking as a new one.
    this.above = new Set();
    this.seenAbove = new IntersectionObserver((entries) => this.onSeenAbove(entries), { threshold: 0.5 });

    this.count = el("span", { className: "feed-count", text: "" });
    this.title = el("h2", { id: `feed-title-${group.id}`, text: group.name });
    this.newer = el("button", { type: "button", className: "button newer", hidden: true });
    this.newer.addEventListener("click", () => this.jumpToLatest());
    this.list = el("ol", {
      className: "rows",
      "aria-labelledby": `feed-title-${group.id}`,
      "aria-busy": "true",
    });
    this.footer = el("p", { className: "feed-footer muted", text: "Loading…" });
    this.scroller = el("div", { className: "feed-scroll", tabindex: "0" }, this.list, this.footer);
    this.scroller.setAttribute("aria-label", `${group.name} activities`);
    this.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    const header = el(
      "header",
      { className: "feed-head" },
      el("span", { className: "feed-dot", "aria-hidden": "true" }),
      this.title,
      this.count,
    );
    this.belowCue = el("button", { type: "button", className: "updates-below", hidden: true });
    this.belowCue.addEventListener("click", () => this.showFirstBelow());
    this.aboveCue = el("button", {
      type: "button",
      className: "updates-above",
      title: "Scroll to the newest activities",
      hidden: true,
    });
    this.aboveCue.addEventListener("click", () => this.scrollToTop());
    // In reading order: the cue for the top edge before the rows, the other after.
    this.root = el(
      "section",
      { className: "feed", "data-group": group.id, "aria-labelledby": `feed-title-${group.id}` },
      header,
      this.newer,
      this.aboveCue,
      this.scroller,
      this.belowCue,
    );
  }

  snapshot(activities, next) {
    this.forgetBelow();
    this.forgetAbove();
    this.rows.clear();
    this.list.replaceChildren();
    for (const activity of activities) this.append(activity);
    this.next = next;
    this.cursorStale = false;
    this.atLatest = true;
    this.missed = 0;
    this.loaded = true;
    this.list.setAttribute("aria-busy", "false");
    this.scroller.scrollTop = 0;
    this.refreshChrome();
    this.maybeLoadOlder();
  }

  newestId() {
    const first = this.list.firstElementChild;
    return first ? Number(first.dataset.id) : null;
  }

  oldestId() {
    const last = this.list.lastElementChild;
    return last ? Number(last.dataset.id) : null;
  }

  hasOlder() {
    return this.next !== null || this.cursorStale;
  }

  append(activity) {
    if (this.rows.has(activity.id)) return;
    const row = this.page.renderRow(activity);
    this.rows.set(activity.id, { activity, row });
    this.list.append(row);
  }

  /** A created or updated activity: change the row in place, or insert it by id. */
  upsert(activity) {
    const existing = this.rows.get(activity.id);
    if (existing) {
      const row = this.page.renderRow(activity);
      existing.row.replaceWith(row);
      this.rows.set(activity.id, { activity, row });
      if (this.above.has(activity.id)) {
        this.seenAbove.unobserve(existing.row);
        this.seenAbove.observe(row);
      }
      if (this.isBelowView(row)) {
        // Out of sight: highlight it when it is scrolled to, and say so meanwhile.
        this.seen.unobserve(existing.row);
        this.below.add(activity.id);
        this.seen.observe(row);
        this.refreshBelow();
      } else {
        this.forgetBelow(activity.id);
        row.classList.add("changed");
      }
      return false;
    }
    const newest = this.newestId();
    const oldest = this.oldestId();
    if (!this.atLatest && (newest === null || activity.id > newest)) {
      this.missed += 1;
      this.refreshChrome();
      return true;
    }
    // Older than everything shown while more exists on the server: it will be
    // paged in at its place; inserting it now would leave a hole above it.
    if (oldest !== null && activity.id < oldest && this.hasOlder()) return false;
    const row = this.page.renderRow(activity);
    const scrolledDown = !this.atTop();
    let before = null;
    for (const candidate of this.list.children) {
      if (Number(candidate.dataset.id) < activity.id) {
        before = candidate;
        break;
      }
    }
    this.list.insertBefore(row, before);
    this.rows.set(activity.id, { activity, row });
    // Scrolled down, the browser keeps the rows in view where they were (scroll
    // anchoring), so a row above them arrives unseen: count it, highlight it when seen.
    if (scrolledDown && this.isAboveView(row)) this.noteAbove(activity.id, row);
    else row.classList.add("fresh");
    this.trimOldest();
    this.refreshChrome();
    return true;
  }

  remove(activity) {
    const existing = this.rows.get(activity.id);
    if (!existing) return;
    this.forgetBelow(activity.id);
    this.forgetAbove(activity.id);
    existing.row.remove();
    this.rows.delete(activity.id);
    this.refreshChrome();
  }

  trimOldest() {
    while (this.rows.size > MAX_ROWS) {
      const last = this.list.lastElementChild;
      this.forgetBelow(Number(last.dataset.id));
      this.forgetAbove(Number(last.dataset.id));
      this.rows.delete(Number(last.dataset.id));
      last.remove();
      // The REST cursor pointed after the row just dropped: find our place again
      // by walking from the top when the user next scrolls down.
      this.cursorStale = true;
      this.next = null;
    }
  }

  trimNewest() {
    while (this.rows.size > MAX_ROWS) {
      const first = this.list.firstElementChild;
      this.forgetBelow(Number(first.dataset.id));
      this.forgetAbove(Number(first.dataset.id));
      this.rows.delete(Number(first.dataset.id));
      first.remove();
      this.atLatest = false;
    }
  }

  onScroll() {
    // Back at the top by any means (the cue, the keyboard, a wheel): nothing is
    // waiting above any more.
    if (this.atTop()) this.forgetAbove(null, { highlight: true });
    this.maybeLoadOlder();
  }

  async maybeLoadOlder() {
    const { scrollTop, scrollHeight, clientHeight } = this.scroller;
    const nearEnd = scrollTop + clientHeight >= scrollHeight - 120;
    if (!nearEnd || this.loadingOlder || !this.loaded || !this.hasOlder()) return;
    this.loadingOlder = true;
    this.refreshChrome();
    try {
      const page = await this.fetchOlder();
      for (const activity of page.activities) this.append(activity);
      this.next = page.next;
      this.cursorStale = false;
      this.page.stats.addMany(this.group.id, page.activities);
      this.page.noteAuthors(page.activities);
      const keepFrom = this.scroller.scrollTop;
      this.trimNewest();
      this.scroller.scrollTop = Math.min(keepFrom, this.scroller.scrollHeight);
    } catch (error) {
      console.warn("could not load older activities", error);
    } finally {
      this.loadingOlder = false;
      this.refreshChrome();
    }
  }

  async fetchOlder() {
    const client = this.page.client;
    if (!this.cursorStale) return client.fetchPage(this.group.id, this.next);
    const oldest = this.oldestId();
    let url = this.page.listUrl(this.group.id, STATS_PAGE_SIZE);
    for (let pages = 0; url && pages < RELOCATE_MAX_PAGES; pages++) {
      const page = await client.fetchPage(this.group.id, url);
      const older = page.activities.filter((activity) => oldest === null || activity.id < oldest);
      if (older.length || !page.next) return { activities: older, next: page.next };
      url = page.next;
    }
    return { activities: [], next: null };
  }

  /** Whether a row lies below what can be seen of this column right now. */
  isBelowView(row) {
    const bottom = Math.min(this.scroller.getBoundingClientRect().bottom, window.innerHeight);
    return row.getBoundingClientRect().top >= bottom - 8;
  }

  /** Whether the column is scrolled to its very top (subpixel offsets count as top). */
  atTop() {
    return this.scroller.scrollTop < 1;
  }

  /** Whether most of a row lies above what can be seen of this column right now. */
  isAboveView(row) {
    const { top, bottom } = row.getBoundingClientRect();
    return (top + bottom) / 2 < this.scroller.getBoundingClientRect().top;
  }

  noteAbove(id, row) {
    this.above.add(id);
    this.seenAbove.observe(row);
    this.refreshAbove();
  }

  onSeenAbove(entries) {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      this.seenAbove.unobserve(entry.target);
      if (this.above.delete(Number(entry.target.dataset.id))) entry.target.classList.add("fresh");
    }
    this.refreshAbove();
  }

  /** Stop tracking one new row (`id`), or every one; `highlight` marks them as arrived. */
  forgetAbove(id = null, { highlight = false } = {}) {
    const ids = id === null ? [...this.above] : [id];
    for (const one of ids) {
      const entry = this.rows.get(one);
      if (entry) {
        this.seenAbove.unobserve(entry.row);
        if (highlight && this.above.has(one)) entry.row.classList.add("fresh");
      }
      this.above.delete(one);
    }
    if (ids.length) this.refreshAbove();
  }

  refreshAbove() {
    const text = updatesAboveText(this.above.size);
    this.showCue(this.aboveCue, text ? `↑ ${text}` : "");
  }

  scrollToTop() {
    const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    this.scroller.scrollTo({ top: 0, behavior: smooth ? "smooth" : "auto" });
  }

  /** Show `cue` with `text`, or hide it for "". */
  showCue(cue, text) {
    // A focused cue that goes away would drop the focus to the page's start: keep it
    // in the column the reader was in.
    if (!text && document.activeElement === cue) this.scroller.focus({ preventScroll: true });
    cue.hidden = !text;
    cue.textContent = text;
  }

  dispose() {
    this.seen.disconnect();
    this.seenAbove.disconnect();
    this.root.remove();
  }

  onSeen(entries) {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const id = Number(entry.target.dataset.id);
      this.seen.unobserve(entry.target);
      if (!this.below.delete(id)) continue;
      entry.target.classList.add("changed");
    }
    this.refreshBelow();
  }

  /** Stop tracking one row (`id`), or every row. */
  forgetBelow(id = null) {
    const ids = id === null ? [...this.below] : [id];
    for (const one of ids) {
      const entry = this.rows.get(one);
      if (entry) this.seen.unobserve(entry.row);
      this.below.delete(one);
    }
    if (ids.length) this.refreshBelow();
  }

  refreshBelow() {
    const text = updatesBelowText(this.below.size);
    this.showCue(this.belowCue, text ? `↓ ${text}` : "");
  }

  showFirstBelow() {
    // The topmost edited row; the rest follow as the reader scrolls on.
    const row = [...this.list.children].find((candidate) => this.below.has(Number(candidate.dataset.id)));
    if (!row) return;
    const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    row.scrollIntoView({ block: "center", behavior: smooth ? "smooth" : "auto" });
  }

  jumpToLatest() {
    this.loaded = false;
    this.list.setAttribute("aria-busy", "true");
    this.page.client.reload(this.group.id);
  }

  refreshChrome() {
    const shown = this.rows.size;
    this.count.textContent = shown === 1 ? "1 shown" : `${shown} shown`;
    this.newer.hidden = this.atLatest;
    this.newer.textContent = this.missed
      ? `${this.missed} newer ${this.missed === 1 ? "activity" : "activities"}: show latest`
      : "Show latest";
    this.footer.textContent = footerText({
      loading: this.loadingOlder,
      loaded: this.loaded,
      hasOlder: this.hasOlder(),
      shown,
      filtered: this.page.filterActive(),
    });
    this.refreshBelow();
  }

  tick(now) {
    for (const { row } of this.rows.values()) {
      const time = row.querySelector("time");
      if (time) time.textContent = relativeTime(time.dateTime, now);
    }
  }
}

// -- the page -----------------------------------------------------------------------

class DashboardPage {
  constructor() {
    // A wall screen should come back within seconds of a restart; jitter still spreads a crowd.
    this.client = new FeedClient({ pageSize: PAGE_SIZE, backoffMaxMs: 10_000 });
    this.stats = new Stats((activity) => typeOf(activity).category);
    this.feeds = new Map();
    this.groups = [];
    this.authors = new Map();
    this.state = readState();
    this.pendingAnnouncements = new Map();
    this.lastAnnouncement = 0;
    this.statsTimer = null;
    this.statsLoad = 0;
    this.status = STATUS.CONNECTING;
    // When the page last knew its feeds were current; null before the first "live".
    this.liveAt = null;

    this.connection = document.getElementById("connection");
    this.connectionLabel = this.connection.querySelector(".conn-label");
    this.connectionSince = this.connection.querySelector(".conn-since");
    this.wallEnter = document.getElementById("wall-enter");
    this.wallExit = document.getElementById("wall-exit");
    this.picker = document.getElementById("group-picker");
    this.typeFilter = document.getElementById("type-filter");
    this.authorFilter = document.getElementById("author-filter");
    this.windowSelect = document.getElementById("window-select");
    this.feedsRoot = document.getElementById("feeds");
    this.empty = document.getElementById("feeds-empty");
    this.announcer = document.getElementById("announcer");
  }

  async start() {
    this.applyWall();
    this.wallEnter.addEventListener("click", () => this.setWall(true));
    this.wallExit.addEventListener("click", () => this.setWall(false));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.state.wall && !event.defaultPrevented) this.setWall(false);
    });
    this.buildTypeFilter();
    this.windowSelect.value = String(this.state.window);
    this.typeFilter.value = this.state.type;
    if (this.state.author) {
      this.authorFilter.append(el("option", { value: this.state.author, text: `user ${this.state.author}` }));
      this.authorFilter.value = this.state.author;
    }
    this.typeFilter.addEventListener("change", () => this.filtersChanged());
    this.authorFilter.addEventListener("change", () => this.filtersChanged());
    this.windowSelect.addEventListener("change", () => {
      this.state.window = Number(this.windowSelect.value);
      writeState(this.state);
      this.reloadStats();
    });

    this.client.on("status", (detail) => this.showStatus(detail));
    this.client.on("snapshot", (detail) => this.onSnapshot(detail));
    this.client.on("activity", (detail) => this.onActivity(detail));
    this.client.on("revoked", ({ group }) => this.onRevoked(group));
    this.client.on("error", (detail) => console.warn("feed error", detail));
    this.client.start();

    setInterval(() => this.tick(), TICK_MS);
    await this.loadGroups();
  }

  async loadGroups() {
    let groups;
    try {
      const response = await fetch("/api/workspace-groups/", {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.status === 401 || response.status === 403) {
        window.location.assign(`/accounts/login/?next=${encodeURIComponent("/dashboard/")}`);
        return;
      }
      groups = await response.json();
    } catch (error) {
      this.picker.replaceChildren(el("span", { className: "muted", text: "Could not load groups; retrying…" }));
      setTimeout(() => this.loadGroups(), 3_000);
      return;
    }
    this.groups = groups;
    const known = new Set(groups.map((g) => g.id));
    let selected = (this.state.groups || []).filter((id) => known.has(id));
    if (!selected.length) {
      const shared = groups.filter((g) => !g.personal);
      selected = (shared.length ? shared : groups).slice(0, MAX_DEFAULT_FEEDS).map((g) => g.id);
    }
    this.state.groups = selected;
    writeState(this.state);
    this.buildPicker();
    for (const id of selected) this.openFeed(id);
    this.layoutFeeds();
    this.reloadStats();
  }

  buildPicker() {
    const chips = this.groups.map((group) => {
      const input = el("input", {
        type: "checkbox",
        value: group.id,
        id: `pick-${group.id}`,
        checked: this.state.groups.includes(group.id),
      });
      input.addEventListener("change", () => this.toggleGroup(group.id, input.checked));
      return el(
        "label",
        { className: group.personal ? "chip personal" : "chip", for: `pick-${group.id}` },
        input,
        el("span", { text: group.name }),
      );
    });
    this.picker.replaceChildren(...chips);
  }

  buildTypeFilter() {
    const byCategory = new Map();
    for (const type of boot.activity_types) {
      if (!byCategory.has(type.category)) byCategory.set(type.category, []);
      byCategory.get(type.category).push(type);
    }
    const categories = el("optgroup", { label: "Categories" });
    for (const { value, label } of boot.categories) {
      // Options hold text only: the icons are SVG and fonts may lack symbol glyphs.
      categories.append(el("option", { value: `cat:${value}`, text: label }));
    }
    this.typeFilter.append(categories);
    for (const { value, label } of boot.categories) {
      const group = el("optgroup", { label });
      for (const type of byCategory.get(value) || []) {
        group.append(el("option", { value: type.value, text: type.label }));
      }
      this.typeFilter.append(group);
    }
  }

  filter() {
    return {
      activityTypes: typesForFilter(this.state.type, boot.activity_types),
      author: this.state.author ? Number(this.state.author) : null,
    };
  }

  listUrl(groupId, pageSize) {
    return activityListUrl("/api/", groupId, { ...this.filter(), pageSize });
  }

  filtersChanged() {
    this.state.type = this.typeFilter.value;
    this.state.author = this.authorFilter.value;
    writeState(this.state);
    for (const feed of this.feeds.values()) {
      feed.loaded = false;
      feed.list.setAttribute("aria-busy", "true");
      this.client.watch(feed.group.id, this.filter());
      feed.refreshChrome();
    }
    // The counts follow at once: what the new filter excludes leaves them now, and
    // what it newly includes is fetched by reloadStats.
    this.stats.keepOnly(this.filter());
    this.renderStats(Date.now());
    this.reloadStats();
  }

  filterActive() {
    return filterActive(this.filter());
  }

  toggleGroup(id, on) {
    if (on && !this.state.groups.includes(id)) this.state.groups.push(id);
    if (!on) this.state.groups = this.state.groups.filter((g) => g !== id);
    writeState(this.state);
    if (on) {
      this.openFeed(id);
      this.reloadStats();
    } else this.closeFeed(id);
    this.layoutFeeds();
  }

  openFeed(id) {
    if (this.feeds.has(id)) return;
    const group = this.groups.find((g) => g.id === id);
    if (!group) return;
    const feed = new FeedView(group, this);
    this.feeds.set(id, feed);
    feed.refreshChrome();
    this.client.watch(id, this.filter());
  }

  closeFeed(id) {
    const feed = this.feeds.get(id);
    if (!feed) return;
    this.client.unwatch(id);
    this.feeds.delete(id);
    this.stats.dropGroup(id);
    this.scheduleStats();
    feed.dispose();
  }

  // -- wall mode ---------------------------------------------------------------------

  /** Enter or leave wall mode: no settings, larger rows, the feeds take the height. */
  setWall(on) {
    // The button pressed goes away with its bar: hand the focus to its counterpart.
    const leaving = on ? this.wallEnter : this.wallExit;
    const hadFocus = document.activeElement === leaving;
    this.state.wall = on;
    writeState(this.state);
    this.applyWall();
    if (hadFocus) (on ? this.wallExit : this.wallEnter).focus();
  }

  applyWall() {
    document.body.classList.toggle("wall", this.state.wall);
    this.wallExit.hidden = !this.state.wall;
  }

  layoutFeeds() {
    // Columns follow the picker's order, so a wall screen always looks the same.
    const ordered = this.groups.filter((g) => this.feeds.has(g.id)).map((g) => this.feeds.get(g.id).root);
    this.feedsRoot.replaceChildren(...ordered);
    if (!ordered.length) this.feedsRoot.append(this.empty);
    this.feedsRoot.style.setProperty("--columns", String(Math.max(1, ordered.length)));
  }

  onRevoked(groupId) {
    this.closeFeed(groupId);
    this.groups = this.groups.filter((g) => g.id !== groupId);
    this.state.groups = this.state.groups.filter((g) => g !== groupId);
    writeState(this.state);
    this.buildPicker();
    this.layoutFeeds();
    this.announce(`You no longer have access to a workspace group; its feed was closed.`, true);
  }

  // -- feed events ------------------------------------------------------------------

  onSnapshot({ group, activities, next }) {
    const feed = this.feeds.get(group);
    if (!feed) return;
    feed.snapshot(activities, next);
    this.stats.addMany(group, activities);
    this.noteAuthors(activities);
    this.scheduleStats();
  }

  onActivity({ group, kind, activity }) {
    const feed = this.feeds.get(group);
    if (!feed) return;
    if (kind === "removed") {
      feed.remove(activity);
      this.stats.remove(group, activity);
    } else {
      const added = feed.upsert(activity);
      this.stats.add(group, activity);
      this.noteAuthors([activity]);
      if (kind === "created" && added) this.queueAnnouncement(feed.group.name);
    }
    this.scheduleStats();
  }

  noteAuthors(activities) {
    let changed = false;
    for (const { user } of activities) {
      if (!user || this.authors.has(user.id)) continue;
      this.authors.set(user.id, displayName(user));
      changed = true;
    }
    if (!changed) return;
    const current = this.authorFilter.value;
    const options = [...this.authors]
      .sort((a, b) => a[1].localeCompare(b[1]))
      .map(([id, name]) => el("option", { value: id, text: name }));
    this.authorFilter.replaceChildren(el("option", { value: "", text: "Anyone" }), ...options);
    this.authorFilter.value = current;
  }

  renderRow(activity) {
    const type = typeOf(activity);
    const style = categoryStyle(type.category);
    const user = activity.user || { id: 0, username: "unknown" };
    const picture = safeImageUrl(user.profile_picture);
    const avatar = picture
      ? el("img", { className: "avatar", src: picture, alt: "", width: 40, height: 40, loading: "lazy" })
      : el("span", { className: "avatar initials", "aria-hidden": "true", text: initials(user) });
    if (!picture) avatar.style.setProperty("--avatar-hue", String(hue(user.id)));
    const badge = el(
      "span",
      { className: "badge", title: categoryLabel.get(type.category) || type.category },
      categoryIcon(type.category),
      el("span", { text: type.label }),
    );
    badge.style.setProperty("--category", style.colour);
    const time = el("time", { datetime: activity.created_at, title: new Date(activity.created_at).toLocaleString() });
    time.textContent = relativeTime(activity.created_at, Date.now());
    const edited = Date.parse(activity.updated_at) - Date.parse(activity.created_at) > EDITED_AFTER_MS;
    const row = el(
      "li",
      { className: `row cat-${type.category}`, "data-id": activity.id },
      avatar,
      el(
        "div",
        { className: "row-body" },
        el("div", { className: "row-meta" }, el("span", { className: "who", text: displayName(user) }), badge),
        el("p", { className: "text", text: activity.text }),
      ),
      el("div", { className: "when" }, time, edited ? el("span", { className: "edited", text: "edited" }) : null),
    );
    row.style.setProperty("--category", style.colour);
    return row;
  }

  // -- connection, announcements, stats ----------------------------------------------

  showStatus({ status, reason }) {
    const now = Date.now();
    // Live again, or leaving "live" now: either way the feeds are current up to now.
    if (status === STATUS.LIVE || this.status === STATUS.LIVE) this.liveAt = now;
    this.status = status;
    this.connection.dataset.status = status;
    // The CSS dims the feeds while reconnecting or offline. "connecting" is only the
    // first attempt, before anything shown could be out of date.
    document.body.dataset.connection = status;
    const labels = {
      [STATUS.CONNECTING]: "Connecting…",
      [STATUS.LIVE]: "Live",
      [STATUS.RECONNECTING]: "Reconnecting…",
      [STATUS.OFFLINE]: reason === "unauthenticated" ? "Offline: signed out" : "Offline",
    };
    const label = labels[status] || status;
    // The label is the live region: the client repeats "reconnecting" on every
    // attempt, and rewriting the same text would announce it again.
    if (this.connectionLabel.textContent !== label) this.connectionLabel.textContent = label;
    this.renderSince(now);
    if (reason === "unauthenticated") {
      window.location.assign(`/accounts/login/?next=${encodeURIComponent("/dashboard/")}`);
    }
  }

  /** "· last update 2 min. ago" next to a status other than live; outside the live region. */
  renderSince(now) {
    if (this.status === STATUS.LIVE || this.liveAt === null) {
      this.connectionSince.replaceChildren();
      return;
    }
    const ago = relativeTime(new Date(this.liveAt).toISOString(), now);
    // The words go on narrow screens (CSS), the time stays.
    const words = el("span", { className: "conn-since-words", text: "last update " });
    this.connectionSince.replaceChildren("· ", words, ago);
  }

  queueAnnouncement(groupName) {
    this.pendingAnnouncements.set(groupName, (this.pendingAnnouncements.get(groupName) || 0) + 1);
  }

  announce(text, now = false) {
    if (now) this.lastAnnouncement = Date.now();
    this.announcer.textContent = text;
  }

  flushAnnouncements(now) {
    if (!this.pendingAnnouncements.size || now - this.lastAnnouncement < ANNOUNCE_EVERY_MS) return;
    const total = [...this.pendingAnnouncements.values()].reduce((a, b) => a + b, 0);
    const where = [...this.pendingAnnouncements.keys()].join(", ");
    this.pendingAnnouncements.clear();
    this.lastAnnouncement = now;
    this.announce(`${total} new ${total === 1 ? "activity" : "activities"} in ${where}`);
  }

  async reloadStats() {
    const load = ++this.statsLoad;
    // Entries are keyed by group and id, so refetching adds nothing twice; summary()
    // counts only what the current filters match.
    for (const feed of this.feeds.values()) this.stats.addMany(feed.group.id, [...feed.rows.values()].map((r) => r.activity));
    this.scheduleStats();
    const since = new Date(Date.now() - this.state.window * 60_000).toISOString();
    for (const groupId of [...this.feeds.keys()]) {
      let url = `${this.listUrl(groupId, STATS_PAGE_SIZE)}&updated_since=${encodeURIComponent(since)}`;
      for (let pages = 0; url && pages < STATS_MAX_PAGES; pages++) {
        let page;
        try {
          page = await this.client.fetchPage(groupId, url);
        } catch (error) {
          console.warn("could not load counts", error);
          break;
        }
        if (load !== this.statsLoad || !this.feeds.has(groupId)) return;
        this.stats.addMany(groupId, page.activities);
        this.scheduleStats();
        url = page.next;
      }
    }
  }

  renderStats(now) {
    const minutes = this.state.window;
    const { total, perCategory, perMinute } = this.stats.summary(minutes, now, this.filter());
    document.getElementById("stat-total").textContent = String(total);
    document.getElementById("stat-window").textContent = `${minutes} minutes`;

    const list = document.getElementById("category-counts");
    const items = [...perCategory]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([category, count]) => {
        const style = categoryStyle(category);
        const item = el(
          "li",
          { className: "count", "data-category": category },
          categoryIcon(category),
          el("span", { className: "count-label", text: categoryLabel.get(category) || category }),
          el("span", { className: "count-value", text: String(count) }),
        );
        item.style.setProperty("--category", style.colour);
        return item;
      });
    if (!items.length) items.push(el("li", { className: "count muted", text: "No activity in this window" }));
    list.replaceChildren(...items);

    this.renderPlot(perMinute, minutes);
  }

  renderPlot(perMinute, minutes) {
    const plot = document.getElementById("rate-plot");
    const width = 600;
    const height = 120;
    const top = 18;
    const peak = Math.max(1, ...perMinute);
    const slot = width / perMinute.length;
    const gap = Math.min(4, slot * 0.2);
    const nodes = [];
    for (const fraction of [0.5, 1]) {
      const y = height - (height - top) * fraction;
      nodes.push(svg("line", { x1: 0, x2: width, y1: y, y2: y, class: "grid" }));
    }
    perMinute.forEach((count, index) => {
      const barHeight = ((height - top) * count) / peak;
      const bar = svg("rect", {
        x: index * slot + gap / 2,
        y: height - barHeight,
        width: Math.max(1, slot - gap),
        height: barHeight,
        rx: 2,
        class: index === perMinute.length - 1 ? "bar current" : "bar",
      });
      const title = svg("title");
      title.textContent = `${count} in minute ${index - perMinute.length + 1 || "now"}`;
      bar.append(title);
      nodes.push(bar);
    });
    plot.replaceChildren(...nodes);
    // In HTML, not in the plot: the plot stretches, which would distort the text.
    document.getElementById("rate-peak").textContent = `peak ${Math.max(...perMinute)}/min`;
    document.getElementById("rate-axis-start").textContent = `−${minutes} min`;
    const latest = perMinute.at(-1);
    plot.setAttribute(
      "aria-label",
      `New activities per minute over the last ${minutes} minutes: peak ${Math.max(...perMinute)}, this minute ${latest}.`,
    );
  }

  tick() {
    const now = Date.now();
    // "Live" holds only while the client's heartbeat is answered, so each second of
    // it counts as a confirmation that the feeds are current.
    if (this.status === STATUS.LIVE) this.liveAt = now;
    else this.renderSince(now);
    for (const feed of this.feeds.values()) feed.tick(now);
    this.flushAnnouncements(now);
    // Counts move with the clock too (old activities leave the window).
    this.renderStats(now);
  }

  /** Render the counts soon, once for a burst of changes. */
  scheduleStats() {
    if (this.statsTimer !== null) return;
    this.statsTimer = setTimeout(() => {
      this.statsTimer = null;
      this.renderStats(Date.now());
    }, 100);
  }
}

const page = new DashboardPage();
window.dashboardPage = page;
page.start();
