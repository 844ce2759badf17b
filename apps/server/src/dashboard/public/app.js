/* global document, location -- browser globals: this file runs in the dashboard page */
import { api, ApiError, forgetKey, storedKey, storeKey } from './api.js';
import { listenForChanges } from './events.js';
import { renderDevices, renderLines, renderReleases, renderRollouts } from './views.js';

const $ = (selector) => document.querySelector(selector);

/** Which views a change notice's topic invalidates (a device's report also moves rollout counts). */
const VIEWS_OF_TOPIC = {
  lines: ['lines'],
  releases: ['releases', 'lines'],
  rollouts: ['rollouts'],
  devices: ['devices', 'rollouts'],
};

/** Per rollout: the answer to the operator's last action on it (an error is shown until the next one). */
const rolloutMessages = new Map();
let listener;

async function linesWith(fetchPerLine) {
  const { items } = await api('/v1/models');
  return Promise.all(items.map(async (line) => ({ line, ...(await fetchPerLine(line)) })));
}

const loaders = {
  async lines() {
    const lines = await linesWith(async (line) => ({
      versions: (await api(`/v1/models/${encodeURIComponent(line.name)}/versions`)).items,
    }));
    renderLines($('#view-lines'), lines);
  },
  async releases() {
    const lines = await linesWith(async (line) => ({
      releases: (await api(`/v1/models/${encodeURIComponent(line.name)}/releases`)).items,
    }));
    renderReleases($('#view-releases'), lines);
  },
  async rollouts() {
    let rollouts = [];
    let unavailable;
    try {
      rollouts = (await api('/v1/rollouts')).items;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      unavailable = 'This server has no rollouts API.';
    }
    renderRollouts($('#view-rollouts'), rollouts, { onAction: act, messages: rolloutMessages, unavailable });
  },
  async devices() {
    renderDevices($('#view-devices'), (await api('/v1/devices')).items);
  },
};

/** Re-fetches views; a view whose fetch is already running is fetched once more after it. */
const inFlight = new Map();
function refresh(views) {
  for (const view of new Set(views)) {
    const state = inFlight.get(view);
    if (state !== undefined) {
      state.again = true;
      continue;
    }
    const entry = { again: false };
    inFlight.set(view, entry);
    const run = async () => {
      try {
        await loaders[view]();
        document.body.dataset[`${view}Loaded`] = String(Date.now());
      } catch (error) {
        showViewError(view, error);
      }
      if (entry.again) {
        entry.again = false;
        return run();
      }
      inFlight.delete(view);
    };
    void run();
  }
}

function showViewError(view, error) {
  if (error instanceof ApiError && error.status === 401) return signOut('The key was refused (revoked or unknown).');
  const container = $(`#view-${view}`);
  const message = document.createElement('p');
  message.className = 'error';
  message.textContent = error instanceof ApiError ? `${error.code}: ${error.message}` : String(error);
  container.prepend(message);
}

async function act(rollout, action) {
  try {
    await api(`/v1/rollouts/${rollout.id}/${action}`, { method: 'POST', body: {} });
    rolloutMessages.set(rollout.id, { error: false, text: `${action}: done` });
  } catch (error) {
    const text =
      error instanceof ApiError ? `${action} refused — ${error.code}: ${error.message}` : `${action} failed: ${error}`;
    rolloutMessages.set(rollout.id, { error: true, text });
  }
  refresh(['rollouts', 'releases', 'devices']);
}

function setLive(status) {
  const live = $('#live');
  live.dataset.status = status;
  live.textContent =
    { live: '● live', connecting: 'connecting…', reconnecting: 'reconnecting…', unauthorized: 'key refused' }[status] ??
    status;
}

function showTab(tab) {
  for (const button of document.querySelectorAll('#tabs button'))
    button.classList.toggle('active', button.dataset.tab === tab);
  for (const section of document.querySelectorAll('main > section')) section.hidden = section.dataset.view !== tab;
  location.hash = tab;
}

async function signIn() {
  let who;
  try {
    who = await api('/v1/whoami');
  } catch (error) {
    return signOut(error instanceof ApiError ? `${error.code}: ${error.message}` : String(error));
  }
  $('#key-form-section').hidden = true;
  $('#main').hidden = false;
  $('#tabs').hidden = false;
  $('#forget-key').hidden = false;
  $('#who').textContent = `${who.prefix} (${who.scopes.join(', ')})`;
  showTab(
    ['lines', 'releases', 'rollouts', 'devices'].includes(location.hash.slice(1)) ? location.hash.slice(1) : 'lines',
  );
  listener?.stop();
  listener = listenForChanges({
    onStatus: setLive,
    // Fetch everything once the stream measures changes: nothing that happens after is missed.
    onReady: () => refresh(Object.keys(loaders)),
    onChange: (topics) => refresh(topics.flatMap((topic) => VIEWS_OF_TOPIC[topic] ?? [])),
  });
}

function signOut(reason) {
  listener?.stop();
  listener = undefined;
  forgetKey();
  setLive('offline');
  $('#main').hidden = true;
  $('#tabs').hidden = true;
  $('#forget-key').hidden = true;
  $('#who').textContent = '';
  $('#key-form-section').hidden = false;
  $('#key-error').textContent = reason ?? '';
  $('#api-key').value = '';
  $('#api-key').focus();
}

$('#key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('#api-key').value.trim();
  if (key === '') return;
  storeKey(key);
  void signIn();
});
$('#forget-key').addEventListener('click', () => signOut());
for (const button of document.querySelectorAll('#tabs button'))
  button.addEventListener('click', () => showTab(button.dataset.tab));

if (storedKey() === null) signOut();
else void signIn();
