// @ts-check
// Steward's escalation inbox: the decisions waiting for the person, answered with the keyboard, and the decisions
// taken without them, to audit. Plain ES module, no framework, no build. Everything it shows comes from the gateway's
// authenticated API (see docs/api.md, "Escalation inbox page"); the API key stays in this tab's sessionStorage.

/** @typedef {{ id: string, label: string }} Option */
/**
 * @typedef {object} Decision
 * @property {string} id
 * @property {string} type
 * @property {string} status
 * @property {Option[]} options
 * @property {string} [proposal]
 * @property {number} [score]
 * @property {number} [threshold]
 * @property {string} [policyVersion]
 * @property {string[]} reasons
 * @property {string} [basis]
 * @property {Record<string, unknown>} context
 * @property {boolean} review
 * @property {boolean} reviewed
 * @property {string} [resolvedBy]
 * @property {string} [choice]
 * @property {string} [fallback]
 * @property {string} [fallbackAt]
 * @property {string} [batchId]
 * @property {string} [taskId]
 * @property {string} [runId]
 * @property {string} createdAt
 * @property {string} [resolvedAt]
 */
/**
 * @typedef {object} Batch
 * @property {string} id
 * @property {string} recipient
 * @property {string} status
 * @property {string} [trigger]
 * @property {string} createdAt
 * @property {string} [sentAt]
 * @property {Decision[]} decisions
 */
/** @typedef {{ decision: Decision, batch: Batch, deferred: boolean }} Item */

const KEY_STORAGE = 'steward.inbox.key';
const DEFERRED_STORAGE = 'steward.inbox.deferred';
const STREAM_PATH = '/v1/escalations/stream';
/** Polling period without a live stream; with one, a slow safety poll only. */
const POLL_MS = 4000;
const SAFETY_POLL_MS = 30_000;
/** The gateway has no stream (404): look again this often. */
const STREAM_RECHECK_MS = 60_000;
/** An answer is hidden from the queue until the server shows it applied, or for this long. */
const ANSWER_PENDING_MS = 60_000;
const TOP_REASONS = 3;
/** What settled a decision (the engine's verdict basis), as the heading of its reasons says it. */
const BASIS = {
  rule: 'a hard rule',
  preference: 'a learned preference',
  no_choice: 'nothing to act on',
  not_earned: 'autonomy not yet earned',
  threshold: 'the score against the certified threshold',
  budget: 'the escalation budget',
};

// ── DOM helpers ────────────────────────────────────────────────────────────────────────────────────────────────

/** @param {string} id */
function byId(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} is missing from the page`);
  return e;
}

/**
 * Creates an element. Text is always set as text (never HTML), so nothing from the API can inject markup.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | undefined>} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/** @param {string} iso */
function ago(iso) {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (s < 45) return 'just now';
  if (s < 90) return '1 min ago';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** @param {string} iso */
function until(iso) {
  const s = (Date.parse(iso) - Date.now()) / 1000;
  if (s <= 0) return 'now';
  if (s < 90) return `in ${Math.max(1, Math.round(s))} s`;
  if (s < 3600) return `in ${Math.round(s / 60)} min`;
  return `in ${Math.round(s / 3600)} h`;
}

/** A <time> that keeps its relative text current (see `tickTimes`). @param {string} iso @param {'ago' | 'until'} mode */
function time(iso, mode = 'ago') {
  return h('time', { datetime: iso, title: new Date(iso).toLocaleString(), 'data-relative': mode }, mode === 'ago' ? ago(iso) : until(iso));
}

function tickTimes() {
  for (const t of document.querySelectorAll('time[data-relative]')) {
    const iso = t.getAttribute('datetime');
    if (iso) t.textContent = t.getAttribute('data-relative') === 'until' ? until(iso) : ago(iso);
  }
}

/** @param {unknown} v */
function show(v) {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return String(v);
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 200 ? `${s.slice(0, 199)}…` : s;
}

const short = (/** @type {string} */ id) => id.slice(0, 8);

// ── State ──────────────────────────────────────────────────────────────────────────────────────────────────────

const state = {
  /** @type {string | null} */ key: null,
  /** Sent batches, then batches still collecting. @type {Batch[]} */ batches: [],
  /** @type {Decision[]} */ history: [],
  /** The selected decision's id. @type {string | null} */ selected: null,
  /** Deferred decision ids, oldest deferral first (this tab only). @type {string[]} */ deferred: [],
  /** Answers sent and accepted (202) that the server does not show applied yet. @type {Map<string, { choice: string, at: number }>} */
  sent: new Map(),
  /** Decisions with an answer in flight. @type {Set<string>} */ busy: new Set(),
  /** Expanded history entries. @type {Set<string>} */ open: new Set(),
  /** Decision ids seen waiting, to announce new arrivals. @type {Set<string> | null} */ known: null,
  /** @type {string | null} */ lastEventId: null,
  /** 'off' | 'polling' | 'live' */ connection: 'off',
  /** Aborts the session's stream and loops on sign-out. @type {AbortController | null} */ session: null,
  queueSig: '',
  historySig: '',
};

/** @param {Decision} d */
const awaitsPerson = (d) => d.status === 'escalated' || (d.review && !d.reviewed);
/** What approving means: the proposal of an escalation, the decided choice of a review. @param {Decision} d */
const approvalOf = (d) => (d.review ? d.choice : d.proposal);
/** @param {Decision} d @param {string | undefined} id */
const labelOf = (d, id) => d.options.find((o) => o.id === id)?.label ?? id ?? '';

/** The queue as the person works through it: batch by batch (escalations before reviews), deferred ones last. */
function queue() {
  /** @type {Item[]} */
  const items = [];
  for (const batch of state.batches) {
    const waiting = batch.decisions.filter((d) => awaitsPerson(d) && !state.sent.has(d.id));
    waiting.sort((x, y) => Number(x.review) - Number(y.review));
    for (const decision of waiting) items.push({ decision, batch, deferred: state.deferred.includes(decision.id) });
  }
  const deferred = state.deferred.flatMap((id) => items.filter((i) => i.decision.id === id));
  return [...items.filter((i) => !i.deferred), ...deferred];
}

// ── API ────────────────────────────────────────────────────────────────────────────────────────────────────────

class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * A request to the gateway with the session's key; resolves to the JSON body, typed by the caller. A 401 ends the
 * session (the key was revoked).
 * @template T
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [opts]
 * @returns {Promise<T>}
 */
async function api(path, opts = {}) {
  const key = state.key;
  if (!key) throw new ApiError(401, 'unauthenticated', 'not signed in');
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${key}`, accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: opts.method ?? 'GET',
    headers,
    cache: 'no-store',
    credentials: 'omit',
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  /** @type {unknown} */
  const body = await res.json().catch(() => ({}));
  if (res.ok) return /** @type {T} */ (body);
  // The API's one error shape: { error: { code, message, issues? } }.
  const error = /** @type {{ error?: { code?: string, message?: string } }} */ (body ?? {}).error;
  const message = error?.message ?? `${res.status} ${res.statusText}`;
  if (res.status === 401 && state.key === key) signOut(`The API key was refused (${message}). Sign in again.`);
  const retry = res.headers.get('retry-after');
  throw new ApiError(res.status, error?.code ?? `http_${res.status}`, res.status === 429 && retry ? `${message}; retry in ${retry} s` : message);
}

/** @param {unknown} err */
const messageOf = (err) => (err instanceof Error ? err.message : String(err));

// ── Loading ────────────────────────────────────────────────────────────────────────────────────────────────────

/** @type {Promise<void> | null} */
let refreshing = null;
let refreshAgain = false;

/** Reloads the queue and the history; calls made meanwhile fold into one more round. */
function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      // The queue first: it prunes the local "sent" answers the history's badges read.
      await loadQueue();
      await loadHistory();
    } while (refreshAgain && state.key);
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let refreshTimer;
function refreshSoon(ms = 150) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void refresh(), ms);
}

async function loadQueue() {
  const error = byId('queue-error');
  try {
    /** Sent batches wait for the person; open ones are still collecting, and can be answered early. @param {'sent' | 'open'} status */
    const batches = (status) => /** @type {Promise<{ batches: Batch[] }>} */ (api(`/v1/escalations/batches?status=${status}&limit=100`));
    const [sent, open] = await Promise.all([batches('sent'), batches('open')]);
    if (!state.key) return;
    state.batches = [...sent.batches, ...open.batches];
    error.textContent = '';
  } catch (err) {
    if (state.key) error.textContent = `Could not load the batches: ${messageOf(err)}`;
    return;
  }
  const waiting = new Set(state.batches.flatMap((b) => b.decisions.filter(awaitsPerson).map((d) => d.id)));
  // An answer leaves the local "sent" list once the server shows it applied; one never applied reappears.
  for (const [id, s] of state.sent) {
    if (!waiting.has(id)) state.sent.delete(id);
    else if (Date.now() - s.at > ANSWER_PENDING_MS) {
      state.sent.delete(id);
      announce(`The answer to ${short(id)} has not been applied yet; it is back in the queue.`);
    }
  }
  const deferred = state.deferred.filter((id) => waiting.has(id));
  if (deferred.length !== state.deferred.length) setDeferred(deferred);
  announceArrivals(waiting);
  renderQueue();
}

async function loadHistory() {
  const by = /** @type {HTMLSelectElement} */ (byId('history-by')).value;
  const type = /** @type {HTMLInputElement} */ (byId('history-type')).value.trim();
  const q = new URLSearchParams({ status: by === 'timeout' ? 'timed_out' : 'resolved', limit: '100' });
  if (type) q.set('type', type);
  const error = byId('history-error');
  try {
    /** @type {{ decisions: Decision[] }} */
    const { decisions } = await api(`/v1/decisions?${q}`);
    if (!state.key) return;
    // The API filters by status and type; who resolved it is filtered here.
    const keep = (/** @type {Decision} */ d) => (by === 'all' || by === 'timeout' ? true : by === 'engine' ? d.resolvedBy === 'autonomous' || d.resolvedBy === 'preference' : d.resolvedBy === by);
    state.history = decisions.filter(keep).slice(0, 50);
    error.textContent = '';
  } catch (err) {
    if (state.key) error.textContent = `Could not load the history: ${messageOf(err)}`;
    return;
  }
  renderHistory();
}

/** @param {Set<string>} waiting */
function announceArrivals(waiting) {
  if (state.known === null) {
    state.known = waiting;
    announce(waiting.size === 0 ? 'Nothing is waiting for you.' : `${waiting.size} decision${waiting.size === 1 ? '' : 's'} waiting for you.`);
    return;
  }
  const fresh = [...waiting].filter((id) => !state.known?.has(id)).length;
  state.known = waiting;
  if (fresh > 0) announce(`${fresh} new decision${fresh === 1 ? '' : 's'} waiting.`);
}

// ── Rendering: the queue ───────────────────────────────────────────────────────────────────────────────────────

function renderQueue() {
  const items = queue();
  const sig = JSON.stringify([items.map((i) => [i.decision, i.batch.id, i.batch.status, i.deferred]), [...state.busy]]);
  if (!items.some((i) => i.decision.id === state.selected)) state.selected = items[0]?.decision.id ?? null;
  const count = items.length;
  byId('queue-count').textContent = count ? `(${count})` : '';
  document.title = count ? `(${count}) Steward inbox` : 'Steward inbox';
  byId('queue-empty').hidden = count > 0;
  if (sig === state.queueSig) return void markSelected(false);
  state.queueSig = sig;

  const container = byId('batches');
  const hadFocus = container.contains(document.activeElement) || document.activeElement === document.body;
  /** @type {HTMLElement[]} */
  const groups = [];
  /** @type {HTMLOListElement | null} */
  let list = null;
  let current = '';
  for (const item of items) {
    const group = item.deferred ? 'deferred' : item.batch.id;
    if (group !== current || !list) {
      current = group;
      list = h('ol', { class: 'cards' });
      groups.push(item.deferred ? deferredSection(list) : batchSection(item.batch, list));
    }
    list.append(h('li', {}, card(item)));
  }
  container.replaceChildren(...groups);
  markSelected(hadFocus, false);
}

/** @param {Batch} b @param {HTMLOListElement} list */
function batchSection(b, list) {
  const waiting = b.decisions.filter((d) => awaitsPerson(d) && !state.sent.has(d.id));
  const approvable = waiting.every((d) => approvalOf(d) !== undefined);
  const titleId = `batch-${b.id}`;
  const title =
    b.status === 'sent'
      ? h('h3', { id: titleId }, `Batch ${short(b.id)} · sent `, time(b.sentAt ?? b.createdAt), b.trigger ? ` (${triggerText(b.trigger)})` : '')
      : h('h3', { id: titleId }, `Batch ${short(b.id)} · collecting, not sent yet · opened `, time(b.createdAt));
  const approveAll = h(
    'button',
    { type: 'button', 'data-action': 'approve-all', 'data-batch': b.id, disabled: !approvable, title: approvable ? undefined : 'Some decisions here have no proposal: answer them one by one' },
    `Approve all ${waiting.length} in this batch`,
  );
  return h('section', { class: `batch batch-${b.status}`, 'aria-labelledby': titleId }, h('header', { class: 'batch-head' }, title, approveAll), list);
}

/** @param {HTMLOListElement} list */
function deferredSection(list) {
  return h(
    'section',
    { class: 'batch batch-deferred', 'aria-labelledby': 'deferred-title' },
    h('header', { class: 'batch-head' }, h('h3', { id: 'deferred-title' }, 'Deferred'), h('p', { class: 'hint' }, 'Moved to the end on this page only; the server still waits for them.')),
    list,
  );
}

/** @param {string} t */
const triggerText = (t) => (t === 'size' ? 'full' : t === 'timeout' ? 'waited long enough' : t === 'critical' ? 'critical decision' : t);

/** @param {Item} item */
function card({ decision: d, batch }) {
  const id = `d-${d.id}`;
  const approval = approvalOf(d);
  const busy = state.busy.has(d.id);
  const kind = d.review ? 'Review' : 'Escalation';
  const what = d.review
    ? h('p', { class: 'proposal' }, `Decided ${d.resolvedBy === 'preference' ? 'by a learned preference' : 'by the engine'}: `, h('strong', {}, labelOf(d, d.choice)), ' ', h('code', {}, d.choice ?? ''), ' — nothing waits; say whether you agree.')
    : d.proposal !== undefined
      ? h('p', { class: 'proposal' }, 'Proposal: ', h('strong', {}, labelOf(d, d.proposal)), ' ', h('code', {}, d.proposal))
      : h('p', { class: 'proposal' }, 'No proposal: choose an option.');

  const options = h(
    'ol',
    { class: 'options', 'aria-label': 'Options' },
    ...d.options.map((o, i) =>
      h(
        'li',
        {},
        h(
          'button',
          { type: 'button', 'data-action': 'choose', 'data-choice': o.id, 'aria-keyshortcuts': i < 9 ? String(i + 1) : undefined, disabled: busy, class: o.id === approval ? 'option proposed' : 'option' },
          i < 9 ? h('kbd', {}, String(i + 1)) : '',
          ' ',
          o.label,
          ' ',
          h('code', {}, o.id),
          o.id === approval ? h('span', { class: 'tag' }, d.review ? 'decided' : 'proposed') : '',
        ),
      ),
    ),
  );

  return h(
    'article',
    { class: 'card', id, tabindex: -1, 'data-id': d.id, 'data-batch': batch.id, 'aria-labelledby': `${id}-title`, 'aria-busy': busy ? 'true' : undefined },
    h('header', { class: 'card-head' }, h('h4', { id: `${id}-title` }, h('span', { class: `kind kind-${kind.toLowerCase()}` }, kind), ' ', h('code', {}, d.type)), badges(d)),
    typeof d.context.title === 'string' ? h('p', { class: 'subject' }, d.context.title) : null,
    what,
    options,
    scores(d),
    reasons(d),
    contextList(d.context, ['confidence', ...(typeof d.context.title === 'string' ? ['title'] : [])]), // shown with the score and as the subject
    h(
      'p',
      { class: 'meta' },
      'Asked ',
      time(d.createdAt),
      d.taskId ? h('span', {}, ' · task ', h('code', { title: d.taskId }, short(d.taskId))) : '',
      ' · decision ',
      h('code', { title: d.id }, short(d.id)),
      d.fallback && d.fallbackAt && !d.review ? h('span', { class: 'fallback' }, ` · takes “${labelOf(d, d.fallback)}” `, time(d.fallbackAt, 'until'), ' if unanswered') : '',
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', 'data-action': 'approve', disabled: busy || approval === undefined, 'aria-keyshortcuts': 'a' }, d.review ? 'Agree ' : 'Approve proposal ', h('kbd', {}, 'a')),
      h('button', { type: 'button', 'data-action': 'defer', 'aria-keyshortcuts': 'd' }, 'Defer ', h('kbd', {}, 'd')),
    ),
  );
}

/** @param {Decision} d */
function badges(d) {
  const c = d.context;
  const list = h('ul', { class: 'badges', 'aria-label': 'Context' });
  const add = (/** @type {string} */ text, /** @type {string} */ cls) => list.append(h('li', { class: `badge ${cls}` }, text));
  if (c.critical === true || c.urgency === 'critical') add('critical', 'danger');
  else if (c.urgency === 'high') add('urgent', 'warn');
  if (c.reversible === false) add('irreversible', 'danger');
  else if (c.reversible === true) add('reversible', 'ok');
  if (typeof c.risk === 'string') add(`risk ${c.risk}`, c.risk === 'high' ? 'danger' : c.risk === 'medium' ? 'warn' : 'ok');
  return list;
}

/** @param {Decision} d */
function scores(d) {
  const box = h('div', { class: 'scores' });
  if (typeof d.score === 'number') {
    // For an escalation: why the score was not enough. A review was already taken alone, so its threshold is moot.
    const needs =
      typeof d.threshold === 'number' && !d.review ? (d.threshold >= 1 ? ' · not yet certified to act alone on this type' : ` · acts alone at ≥ ${d.threshold.toFixed(2)}`) : '';
    box.append(
      h(
        'p',
        {},
        h('span', { class: 'label' }, 'Score'),
        ' ',
        h('meter', { min: 0, max: 1, low: 0.5, high: 0.8, optimum: 1, value: d.score, 'aria-label': 'Score' }),
        ' ',
        h('strong', {}, d.score.toFixed(2)),
        ` — the engine's estimate that you agree with ${d.review ? 'its choice' : 'the proposal'}${needs}`,
      ),
    );
  }
  const confidence = d.context.confidence;
  if (typeof confidence === 'number') box.append(h('p', {}, h('span', { class: 'label' }, "Agent's confidence"), ' ', h('strong', {}, confidence.toFixed(2))));
  return box;
}

/** @param {Decision} d */
function reasons(d) {
  const all = d.reasons;
  if (all.length === 0) return null;
  const basis = d.basis !== undefined && d.basis in BASIS ? BASIS[/** @type {keyof typeof BASIS} */ (d.basis)] : undefined;
  const box = h('div', { class: 'reasons' }, h('h5', {}, basis ? `Why: ${basis}` : 'Why'), h('ol', {}, ...all.slice(0, TOP_REASONS).map((r) => h('li', {}, r))));
  if (all.length > TOP_REASONS) {
    box.append(h('details', {}, h('summary', {}, `${all.length - TOP_REASONS} more reason${all.length - TOP_REASONS === 1 ? '' : 's'}`), h('ol', { start: TOP_REASONS + 1 }, ...all.slice(TOP_REASONS).map((r) => h('li', {}, r)))));
  }
  return box;
}

const CONTEXT_FIRST = ['risk', 'reversible', 'critical', 'urgency', 'env', 'branch', 'cost', 'blastRadius'];

/** @param {Record<string, unknown>} context @param {string[]} [shownElsewhere] fields already on display */
function contextList(context, shownElsewhere = []) {
  const keys = Object.keys(context).filter((k) => !shownElsewhere.includes(k));
  if (keys.length === 0) return null;
  keys.sort((a, b) => (CONTEXT_FIRST.indexOf(a) + 1 || 99) - (CONTEXT_FIRST.indexOf(b) + 1 || 99) || a.localeCompare(b));
  return h('dl', { class: 'context' }, ...keys.flatMap((k) => [h('dt', {}, k), h('dd', {}, show(context[k]))]));
}

/**
 * Shows which card is selected and, when the person is working in the queue, focuses it.
 * @param {boolean} focus @param {boolean} [scroll]
 */
function markSelected(focus, scroll = true) {
  /** @type {HTMLElement | null} */
  let selected = null;
  for (const c of document.querySelectorAll('#batches .card')) {
    if (!(c instanceof HTMLElement)) continue;
    const on = c.dataset.id === state.selected;
    c.classList.toggle('selected', on);
    if (on) {
      c.setAttribute('aria-current', 'true');
      selected = c;
    } else c.removeAttribute('aria-current');
  }
  if (selected && focus) {
    selected.focus({ preventScroll: true });
    if (scroll) selected.scrollIntoView({ block: 'nearest' });
  }
}

// ── Rendering: the history ─────────────────────────────────────────────────────────────────────────────────────

function renderHistory() {
  const sig = JSON.stringify([state.history, [...state.sent.keys()]]);
  byId('history-empty').hidden = state.history.length > 0;
  if (sig === state.historySig) return;
  state.historySig = sig;
  byId('history').replaceChildren(...state.history.map(historyEntry));
}

/** @param {Decision} d */
function historyEntry(d) {
  const by = d.resolvedBy === 'autonomous' ? 'engine' : d.resolvedBy === 'preference' ? 'preference' : d.resolvedBy === 'human' ? 'a person' : d.resolvedBy === 'timeout' ? 'fallback' : (d.resolvedBy ?? '?');
  const pending = d.review && !d.reviewed;
  const reviewState = d.reviewed ? h('span', { class: 'badge ok' }, 'reviewed') : state.sent.has(d.id) ? h('span', { class: 'badge ok' }, 'review sent') : pending ? h('span', { class: 'badge warn' }, 'review requested') : '';
  const score = typeof d.score === 'number' ? h('span', { class: 'score' }, `score ${d.score.toFixed(2)}${typeof d.threshold === 'number' && d.threshold < 1 ? ` / ${d.threshold.toFixed(2)}` : ''}`) : '';
  const summary = h('summary', {}, time(d.resolvedAt ?? d.createdAt), ' ', h('code', {}, d.type), ' → ', h('strong', {}, labelOf(d, d.choice)), ` by ${by} `, score, ' ', reviewState);

  const body = h(
    'div',
    { class: 'history-body' },
    reasons(d),
    contextList(d.context),
    h('p', { class: 'meta' }, 'decision ', h('code', {}, d.id), d.taskId ? h('span', {}, ' · task ', h('code', {}, d.taskId)) : '', d.policyVersion ? h('span', {}, ' · policy ', h('code', {}, d.policyVersion)) : ''),
  );
  if (pending && !state.sent.has(d.id)) {
    const selectId = `review-${d.id}`;
    body.append(
      h(
        'form',
        { class: 'review', 'data-action': 'review', 'data-id': d.id },
        h('label', { for: selectId }, 'The right choice was'),
        h('select', { id: selectId, name: 'choice' }, ...d.options.map((o) => h('option', { value: o.id, selected: o.id === d.choice }, `${o.label} (${o.id})`))),
        h('button', { type: 'submit' }, 'Mark reviewed'),
      ),
    );
  } else if (!d.review && (d.resolvedBy === 'autonomous' || d.resolvedBy === 'preference')) {
    body.append(h('p', { class: 'hint' }, 'Not picked for review: the API records reviews of sampled decisions only.'));
  }
  return h('li', {}, h('details', { 'data-id': d.id, open: state.open.has(d.id) }, summary, body));
}

// ── Answers ────────────────────────────────────────────────────────────────────────────────────────────────────

/** @param {HTMLElement | null} node */
function itemOf(node) {
  const id = node?.closest('.card')?.getAttribute('data-id') ?? state.selected;
  return queue().find((i) => i.decision.id === id);
}

/** @param {string} id */
function select(id) {
  state.selected = id;
  markSelected(true);
}

/** @param {number} delta */
function move(delta) {
  const items = queue();
  if (items.length === 0) return;
  const at = items.findIndex((i) => i.decision.id === state.selected);
  const next = items[Math.min(items.length - 1, Math.max(0, at + delta))];
  if (next) select(next.decision.id);
}

/** After `id` leaves the queue the selection moves to what followed it (or, at the end, what preceded it). @param {string} id */
function selectionAfter(id) {
  const items = queue();
  const at = items.findIndex((i) => i.decision.id === id);
  return (items[at + 1] ?? items[at - 1])?.decision.id ?? null;
}

/** @param {Decision} d @param {string} choice */
async function answer(d, choice) {
  if (state.busy.has(d.id)) return;
  const next = selectionAfter(d.id);
  state.busy.add(d.id);
  renderQueue();
  try {
    await api(`/v1/decisions/${encodeURIComponent(d.id)}/answer`, { method: 'POST', body: { choice } });
    state.sent.set(d.id, { choice, at: Date.now() });
    if (state.selected === d.id) state.selected = next;
    announce(`${d.review ? 'Reviewed' : 'Answered'} ${d.type}: ${labelOf(d, choice)}.${d.review ? '' : ' The workflow continues.'}`);
    byId('queue-error').textContent = '';
  } catch (err) {
    const text = err instanceof ApiError && err.status === 409 ? `${d.type} was already answered or closed: ${err.message}` : err instanceof ApiError && err.status === 403 ? `This key cannot answer (${err.message}).` : `Could not answer ${d.type}: ${messageOf(err)}`;
    byId('queue-error').textContent = text;
    announce(text);
  } finally {
    state.busy.delete(d.id);
  }
  const focusInQueue = byId('batches').contains(document.activeElement) || document.activeElement === document.body;
  renderQueue();
  renderHistory();
  markSelected(focusInQueue);
  refreshSoon(500);
}

/** @param {Item | undefined} item */
function approve(item) {
  if (!item) return;
  const choice = approvalOf(item.decision);
  if (choice === undefined) return announce('There is no proposal to approve: choose an option with its number.');
  void answer(item.decision, choice);
}

/** @param {Item | undefined} item @param {number} n */
function choose(item, n) {
  if (!item) return;
  const option = item.decision.options[n - 1];
  if (!option) return announce(`There is no option ${n}; this decision has ${item.decision.options.length}.`);
  void answer(item.decision, option.id);
}

/** Defer: nothing on the server (the API has no such state); the decision moves to the end of this page's queue. @param {Item | undefined} item */
function defer(item) {
  if (!item) return;
  const id = item.decision.id;
  const next = selectionAfter(id);
  setDeferred([...state.deferred.filter((x) => x !== id), id]);
  if (state.selected === id && next) state.selected = next;
  renderQueue();
  markSelected(true);
  announce(`Deferred ${item.decision.type}: moved to the end of your queue.`);
}

/** @param {string} batchId */
async function approveAll(batchId) {
  const batch = state.batches.find((b) => b.id === batchId);
  if (!batch) return;
  const waiting = batch.decisions.filter((d) => awaitsPerson(d) && !state.sent.has(d.id));
  try {
    await api(`/v1/escalations/batches/${encodeURIComponent(batchId)}/answers`, { method: 'POST', body: { approveAll: true } });
    for (const d of waiting) state.sent.set(d.id, { choice: approvalOf(d) ?? '', at: Date.now() });
    announce(`Approved ${waiting.length} decision${waiting.length === 1 ? '' : 's'} of batch ${short(batchId)}.`);
  } catch (err) {
    byId('queue-error').textContent = `Could not approve the batch: ${messageOf(err)}`;
  }
  renderQueue();
  renderHistory();
  refreshSoon(500);
}

/** @param {string[]} ids */
function setDeferred(ids) {
  state.deferred = ids;
  sessionStorage.setItem(DEFERRED_STORAGE, JSON.stringify(ids));
}

/** @param {string} text */
function announce(text) {
  const live = byId('announce');
  // Cleared first so that the same message twice is announced twice.
  live.textContent = '';
  setTimeout(() => {
    live.textContent = text;
  }, 50);
}

// ── Keyboard and clicks ────────────────────────────────────────────────────────────────────────────────────────

/** @param {KeyboardEvent} e */
function onKey(e) {
  if (!state.key || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
  const help = /** @type {HTMLDialogElement} */ (byId('help'));
  if (e.key === '?') {
    e.preventDefault();
    toggleHelp();
    return;
  }
  if (help.open) return;
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement || (t instanceof HTMLElement && t.isContentEditable)) return;
  // Enter on a button, link or summary keeps its own meaning.
  const onControl = t instanceof HTMLButtonElement || t instanceof HTMLAnchorElement || (t instanceof HTMLElement && t.tagName === 'SUMMARY');
  const item = queue().find((i) => i.decision.id === state.selected);
  switch (e.key) {
    case 'j':
    case 'ArrowDown':
      move(1);
      break;
    case 'k':
    case 'ArrowUp':
      move(-1);
      break;
    case 'a':
      approve(item);
      break;
    case 'Enter':
      if (onControl) return;
      approve(item);
      break;
    case 'd':
      defer(item);
      break;
    case 'r':
      void refresh();
      break;
    default:
      if (!/^[1-9]$/.test(e.key)) return;
      choose(item, Number(e.key));
  }
  e.preventDefault();
}

function toggleHelp() {
  const help = /** @type {HTMLDialogElement} */ (byId('help'));
  if (help.open) help.close();
  else help.showModal();
}

/** @param {MouseEvent} e */
function onQueueClick(e) {
  const target = e.target instanceof Element ? e.target : null;
  const button = target?.closest('button[data-action]');
  const cardEl = target?.closest('.card');
  if (cardEl instanceof HTMLElement && cardEl.dataset.id && cardEl.dataset.id !== state.selected) {
    state.selected = cardEl.dataset.id;
    markSelected(!button);
  }
  if (!(button instanceof HTMLButtonElement)) return;
  const action = button.dataset.action;
  if (action === 'approve-all') void approveAll(button.dataset.batch ?? '');
  else if (action === 'approve') approve(itemOf(button));
  else if (action === 'defer') defer(itemOf(button));
  else if (action === 'choose') {
    const item = itemOf(button);
    if (item && button.dataset.choice) void answer(item.decision, button.dataset.choice);
  }
}

/** @param {SubmitEvent} e */
function onReviewSubmit(e) {
  const form = e.target;
  if (!(form instanceof HTMLFormElement) || form.dataset.action !== 'review') return;
  e.preventDefault();
  const d = state.history.find((x) => x.id === form.dataset.id);
  const choice = /** @type {HTMLSelectElement | null} */ (form.elements.namedItem('choice'))?.value;
  if (d && choice) void answer(d, choice);
}

// ── Live updates: the SSE stream when the gateway has one, polling otherwise ───────────────────────────────────

/** @param {'off' | 'polling' | 'live'} mode @param {string} text */
function setConnection(mode, text) {
  state.connection = mode;
  const p = byId('connection');
  p.dataset.state = mode;
  p.textContent = text;
}

/** @type {() => void} */
let wakePoller = () => {};

/** @param {number} ms @param {AbortSignal} signal @param {boolean} [wakeable] */
function sleep(ms, signal, wakeable = false) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve(undefined);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    if (wakeable) wakePoller = done;
  });
}

/** Refreshes every few seconds, or every 30 s while the stream is live (a safety net). @param {AbortSignal} signal */
async function pollLoop(signal) {
  while (!signal.aborted) {
    await refresh().catch(() => {});
    const every = state.connection === 'live' ? SAFETY_POLL_MS : POLL_MS;
    await sleep(document.hidden ? Math.max(every, SAFETY_POLL_MS) : every, signal, true);
  }
}

/** Keeps the stream open, resuming from the last event id; falls back to polling whenever it is absent or down. @param {AbortSignal} signal */
async function liveLoop(signal) {
  let backoff = 2000;
  while (!signal.aborted) {
    const outcome = await streamOnce(signal);
    if (signal.aborted) return;
    if (outcome === 'absent') {
      setConnection('polling', `Updating every ${POLL_MS / 1000} s (this gateway has no live stream)`);
      wakePoller();
      await sleep(STREAM_RECHECK_MS, signal);
    } else {
      if (outcome === 'opened') backoff = 2000;
      setConnection('polling', `Live stream lost; updating every ${POLL_MS / 1000} s and reconnecting`);
      wakePoller();
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, 30_000);
    }
  }
}

/**
 * One connection to the stream, read with fetch (EventSource cannot send the Authorization header). Any event means
 * "something changed": the page reloads what it shows, so it never depends on the events' exact payloads.
 * @param {AbortSignal} signal
 * @returns {Promise<'absent' | 'failed' | 'opened'>}
 */
async function streamOnce(signal) {
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${state.key}`, accept: 'text/event-stream' };
  if (state.lastEventId) headers['last-event-id'] = state.lastEventId;
  /** @type {Response} */
  let res;
  try {
    res = await fetch(STREAM_PATH, { headers, signal, cache: 'no-store', credentials: 'omit' });
  } catch {
    return 'failed';
  }
  if (res.status === 404 || res.status === 405 || res.status === 501) {
    void res.body?.cancel();
    return 'absent';
  }
  if (res.status === 401) signOut('The API key was refused. Sign in again.');
  if (!res.ok || !res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    void res.body?.cancel();
    return 'failed';
  }
  setConnection('live', 'Live');
  wakePoller();
  refreshSoon(0); // whatever happened before the stream opened
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let data = false;
  /** @type {string | null} */
  let id = null;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buffer);
        if (!m || (m[0] === '\r' && m.index === buffer.length - 1)) break; // a "\r" may be half of "\r\n"
        const line = buffer.slice(0, m.index);
        buffer = buffer.slice(m.index + m[0].length);
        if (line === '') {
          // End of an event: remember where we are, then reload.
          if (id !== null) state.lastEventId = id;
          if (data) refreshSoon();
          data = false;
          continue;
        }
        if (line.startsWith(':')) continue; // a comment (heartbeat)
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id' && !val.includes('\0')) id = val;
        else if (field === 'data') data = true;
      }
    }
  } catch {
    // aborted or the connection dropped
  } finally {
    reader.releaseLock();
  }
  return 'opened';
}

// ── Session ────────────────────────────────────────────────────────────────────────────────────────────────────

function start() {
  state.session?.abort();
  const session = new AbortController();
  state.session = session;
  state.known = null;
  state.queueSig = '';
  state.historySig = '';
  try {
    /** @type {unknown} */
    const stored = JSON.parse(sessionStorage.getItem(DEFERRED_STORAGE) ?? '[]');
    state.deferred = Array.isArray(stored) ? stored.filter((x) => typeof x === 'string') : [];
  } catch {
    state.deferred = [];
  }
  byId('sign-in').hidden = true;
  byId('app').hidden = false;
  byId('sign-out').hidden = false;
  setConnection('polling', 'Connecting…');
  void pollLoop(session.signal);
  void liveLoop(session.signal);
}

/** @param {string} [message] */
function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  sessionStorage.removeItem(DEFERRED_STORAGE);
  state.session?.abort();
  state.session = null;
  Object.assign(state, { key: null, batches: [], history: [], selected: null, deferred: [], known: null, lastEventId: null, queueSig: '', historySig: '' });
  state.sent.clear();
  state.busy.clear();
  state.open.clear();
  byId('batches').replaceChildren();
  byId('history').replaceChildren();
  byId('app').hidden = true;
  byId('sign-out').hidden = true;
  byId('sign-in').hidden = false;
  byId('sign-in-error').textContent = message ?? '';
  document.title = 'Steward inbox';
  setConnection('off', 'Not signed in');
  const input = /** @type {HTMLInputElement} */ (byId('api-key'));
  input.value = '';
  input.focus();
}

/** @param {SubmitEvent} e */
async function onSignIn(e) {
  e.preventDefault();
  const input = /** @type {HTMLInputElement} */ (byId('api-key'));
  const error = byId('sign-in-error');
  const key = input.value.trim();
  if (!key) {
    error.textContent = 'Enter an API key.';
    return;
  }
  error.textContent = 'Checking…';
  try {
    const res = await fetch('/v1/escalations/batches?limit=1', { headers: { authorization: `Bearer ${key}` }, cache: 'no-store', credentials: 'omit' });
    if (res.status === 401) error.textContent = 'That key is unknown or revoked.';
    else if (res.status === 403) error.textContent = 'That key lacks the read scope.';
    else if (!res.ok) error.textContent = `The gateway answered ${res.status}; try again.`;
    else {
      error.textContent = '';
      input.value = '';
      sessionStorage.setItem(KEY_STORAGE, key);
      state.key = key;
      start();
      byId('queue-title').focus();
    }
  } catch (err) {
    error.textContent = `Could not reach the gateway: ${messageOf(err)}`;
  }
}

function main() {
  byId('sign-in-form').addEventListener('submit', (e) => void onSignIn(/** @type {SubmitEvent} */ (e)));
  byId('sign-out').addEventListener('click', () => signOut('Signed out. The key was removed from this tab.'));
  byId('help-button').addEventListener('click', toggleHelp);
  byId('help-close').addEventListener('click', toggleHelp);
  byId('batches').addEventListener('click', onQueueClick);
  byId('history').addEventListener('submit', (e) => onReviewSubmit(/** @type {SubmitEvent} */ (e)));
  // `toggle` does not bubble: listen in the capture phase to remember which entries are open.
  byId('history').addEventListener(
    'toggle',
    (e) => {
      const d = e.target;
      if (!(d instanceof HTMLDetailsElement) || !d.dataset.id) return;
      if (d.open) state.open.add(d.dataset.id);
      else state.open.delete(d.dataset.id);
    },
    true,
  );
  const filters = byId('history-filters');
  filters.addEventListener('submit', (e) => e.preventDefault());
  filters.addEventListener('change', () => void loadHistory());
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let typing;
  byId('history-type').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => void loadHistory(), 300);
  });
  document.addEventListener('keydown', onKey);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.key) refreshSoon(0);
  });
  setInterval(tickTimes, 15_000);

  state.key = sessionStorage.getItem(KEY_STORAGE);
  if (state.key) start();
  else signOut();
}

main();
