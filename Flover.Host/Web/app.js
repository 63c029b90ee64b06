// Flover's built-in page: a playground over the public OpenAI-compatible API and a live view of
// the decode loop (GET /v1/engine/events). No framework, no inline script (the page's CSP forbids
// it), and model output is only ever set as text, never parsed as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
const keyStore = 'flover-api-key';
let generation = null; // the AbortController of the running request, if any
let events = null; // the AbortController of the event stream
const history = []; // {time, max, mean} per event, for the last minute

function authHeaders(json) {
  const headers = {};
  if (json) headers['Content-Type'] = 'application/json';
  const key = $('api-key').value.trim();
  // The key travels only in this header, never in a URL: EventSource cannot send headers, so the
  // event stream is read with fetch as well.
  if (key) headers.Authorization = `Bearer ${key}`;
  return headers;
}

async function apiError(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return `${response.status}: ${body.error.message}`;
  } catch (e) {
    // Not our JSON error shape: fall through to the status line.
  }
  return `${response.status} ${response.statusText}`;
}

// Reads a text/event-stream response, calling onEvent(name, data) per event; comments are skipped.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) onEvent(name, data.join('\n'));
    }
  }
}

function numberField(id) {
  const text = $(id).value.trim();
  return text === '' ? undefined : Number(text);
}

function requestBody(mode) {
  const body = {
    model: $('model').textContent || undefined,
    stream: true,
    stream_options: { include_usage: true },
    temperature: numberField('temperature'),
    top_p: numberField('top_p'),
    max_tokens: numberField('max_tokens'),
    seed: numberField('seed'),
  };
  const topK = numberField('top_k');
  if (topK) body.top_k = topK;
  const stop = $('stop').value;
  if (stop) body.stop = [stop];
  if (mode === 'chat') body.messages = [{ role: 'user', content: $('prompt').value }];
  else body.prompt = $('prompt').value;
  return body;
}

async function send() {
  const mode = document.querySelector('input[name="mode"]:checked').value;
  const output = $('output');
  output.textContent = '';
  $('error').textContent = '';
  $('status').textContent = 'waiting...';
  $('send').disabled = true;
  $('cancel').disabled = false;
  generation = new AbortController();
  const started = performance.now();
  let first = 0;
  let pieces = 0;
  let finish = null;
  let usage = null;
  try {
    const path = mode === 'chat' ? '/v1/chat/completions' : '/v1/completions';
    const response = await fetch(path, { method: 'POST', headers: authHeaders(true), body: JSON.stringify(requestBody(mode)), signal: generation.signal });
    if (!response.ok) {
      $('error').textContent = await apiError(response);
      $('status').textContent = '';
      return;
    }
    await readEvents(response, (name, data) => {
      if (data === '[DONE]') return;
      const chunk = JSON.parse(data);
      if (chunk.error) {
        $('error').textContent = chunk.error.message;
        return;
      }
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices || []) {
        const text = mode === 'chat' ? (choice.delta && choice.delta.content) || '' : choice.text || '';
        if (text) {
          if (!first) first = performance.now();
          pieces++;
          output.append(text); // text, never HTML
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    });
    const ttft = first ? `${Math.round(first - started)} ms to first token` : 'no tokens';
    const tokens = usage ? `${usage.prompt_tokens} prompt + ${usage.completion_tokens} generated tokens` : `${pieces} pieces`;
    $('status').textContent = `finish_reason: ${finish ?? 'none'} · ${tokens} · ${ttft}`;
  } catch (error) {
    if (error.name === 'AbortError') $('status').textContent = 'stopped (the server frees the slot)';
    else $('error').textContent = String(error.message || error);
  } finally {
    generation = null;
    $('send').disabled = false;
    $('cancel').disabled = true;
  }
}

function renderSlots(summary) {
  const moved = new Set(summary.moves.map((move) => move[1]));
  const grid = $('slots');
  grid.replaceChildren();
  [...summary.slots].forEach((letter, slot) => {
    const cell = document.createElement('span');
    const state = letter === 'h' ? 'held' : letter === 'o' ? 'hole' : 'free';
    cell.className = `slot ${state}${moved.has(slot) ? ' moved' : ''}`;
    const request = summary.slot_requests[slot];
    cell.title = `slot ${slot}: ${state}${request === null ? '' : ` by request ${request}`}`;
    cell.dataset.state = state;
    grid.append(cell);
  });
  if (summary.moves.length) $('moves').textContent = summary.moves.map((move) => `${move[0]}→${move[1]}`).join(', ');
}

function drawBatches() {
  const canvas = $('batch');
  const context = canvas.getContext('2d');
  const now = performance.now();
  while (history.length && now - history[0].time > 60000) history.shift();
  context.clearRect(0, 0, canvas.width, canvas.height);
  const top = Math.max(1, ...history.map((h) => h.max));
  const width = canvas.width / 240; // 240 intervals of 250 ms in a minute
  history.forEach((h) => {
    // The newest bar ends at the right edge (not past it, where it would be clipped away).
    const x = canvas.width - width - ((now - h.time) / 60000) * (canvas.width - width);
    const height = (h.max / top) * (canvas.height - 10);
    context.fillStyle = '#2f7d4f';
    context.fillRect(x, canvas.height - height, Math.max(1, width - 1), height);
    context.fillStyle = '#1d232a';
    context.fillRect(x, canvas.height - (h.mean / top) * (canvas.height - 10) - 1, Math.max(1, width - 1), 2);
  });
  context.fillStyle = '#68707a';
  context.fillText(`max ${top}`, 4, 10);
}

function renderRecent(requests) {
  const body = document.querySelector('#recent tbody');
  body.replaceChildren(...requests.map((request) => {
    const row = document.createElement('tr');
    for (const value of [request.ttft_ms, request.tpot_ms ?? '-', request.tokens, request.finish_reason]) {
      const cell = document.createElement('td');
      cell.textContent = String(value);
      row.append(cell);
    }
    return row;
  }));
}

function onSummary(summary) {
  $('tps').textContent = summary.tokens_per_second.toFixed(1);
  $('running').textContent = summary.running;
  $('waiting').textContent = summary.waiting;
  $('scheduler').textContent = summary.scheduler;
  renderSlots(summary);
  renderRecent(summary.recent_requests || []);
  history.push({ time: performance.now(), max: summary.max_rows, mean: summary.mean_rows });
  drawBatches();
}

async function connectEvents() {
  if (events) events.abort();
  const controller = new AbortController();
  events = controller;
  $('engine-error').textContent = '';
  $('live').textContent = 'connecting';
  try {
    const response = await fetch('/v1/engine/events', { headers: authHeaders(false), signal: controller.signal });
    if (!response.ok) {
      $('engine-error').textContent = response.status === 429
        ? 'Too many viewers are watching the engine already (flover.http.max-event-viewers); retrying in a while.'
        : await apiError(response);
      $('live').textContent = 'off';
      if (response.status === 401) return; // wait for a key
    } else {
      // The server registers a viewer before it answers: from here on no iteration is missed.
      $('live').textContent = 'live';
      await readEvents(response, (name, data) => { if (name === 'iteration') onSummary(JSON.parse(data)); });
    }
  } catch (error) {
    if (error.name === 'AbortError') return;
  }
  if (events === controller) {
    $('live').textContent = 'reconnecting';
    setTimeout(connectEvents, 5000);
  }
}

async function loadModel() {
  const response = await fetch('/v1/models', { headers: authHeaders(false) });
  if (!response.ok) {
    $('error').textContent = await apiError(response);
    return;
  }
  const body = await response.json();
  // A cluster frontend lists a model only while a worker serves it.
  $('model').textContent = body.data.length ? body.data[0].id : 'no model served yet';
}

function start() {
  $('api-key').value = sessionStorage.getItem(keyStore) || '';
  $('api-key').addEventListener('change', () => {
    sessionStorage.setItem(keyStore, $('api-key').value.trim());
    $('error').textContent = '';
    loadModel();
    connectEvents();
  });
  $('send').addEventListener('click', send);
  $('cancel').addEventListener('click', () => { if (generation) generation.abort(); });
  loadModel();
  connectEvents();
  setInterval(drawBatches, 1000);
}

start();
