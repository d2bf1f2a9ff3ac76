// The chat page: one WebSocket to /chat; sends {name, text}, shows every {name, text, time} the
// server broadcasts. Messages are rendered with textContent only (never as HTML).

const list = document.querySelector('#messages');
const form = document.querySelector('#chat-form');
const nameInput = document.querySelector('#chat-name');
const textInput = document.querySelector('#text');
const state = document.querySelector('#chat-state');
const status = document.querySelector('#chat-status');
const MAX_SHOWN = 200;

nameInput.value = localStorage.getItem('keel-chat-name') ?? '';
nameInput.addEventListener('change', () => localStorage.setItem('keel-chat-name', nameInput.value.trim()));

function setState(text, live) {
  state.textContent = text;
  state.className = live ? 'badge live' : 'badge';
}

function setStatus(text, kind = '') {
  status.textContent = text;
  status.className = kind ? `status ${kind}` : 'status';
}

function show({ name, text, time }) {
  const item = document.createElement('li');
  const when = document.createElement('time');
  when.dateTime = time;
  when.textContent = new Date(time).toLocaleTimeString();
  const who = document.createElement('strong');
  who.textContent = name;
  const what = document.createElement('span');
  what.textContent = text;
  item.append(when, who, what);
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.append(item);
  while (list.children.length > MAX_SHOWN) list.firstElementChild.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
}

let socket;
let retryMs = 1000;
function connect() {
  socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/chat`);
  socket.addEventListener('open', () => {
    retryMs = 1000;
    setState('live', true);
    setStatus('');
  });
  socket.addEventListener('message', (event) => {
    try {
      show(JSON.parse(event.data));
    } catch {
      // not a chat message: ignore
    }
  });
  socket.addEventListener('close', (event) => {
    setState('reconnecting…', false);
    if (event.code === 1009) setStatus('That message was too large (4 KiB at most).', 'error');
    else if (event.code === 1001) setStatus('The server is going away.', 'error');
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 15_000);
  });
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = textInput.value.trim();
  if (text === '') return;
  if (socket?.readyState !== WebSocket.OPEN) return setStatus('Not connected yet: try again in a moment.', 'error');
  localStorage.setItem('keel-chat-name', nameInput.value.trim());
  socket.send(JSON.stringify({ name: nameInput.value.trim(), text }));
  textInput.value = '';
  setStatus('');
  textInput.focus();
});

connect();
