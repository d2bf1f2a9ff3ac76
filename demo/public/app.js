// The demo page: lists users from /api/users, adds users with a JSON POST, shows the server-sent
// events of /events, and times /slow (worker thread) against /fast.

const usersList = document.querySelector('#users');
const form = document.querySelector('#user-form');
const nameInput = document.querySelector('#name');
const formStatus = document.querySelector('#form-status');
const eventsList = document.querySelector('#events');
const eventsState = document.querySelector('#events-state');
const timings = document.querySelector('#timings');
const shownUserIds = new Set();

function showUser(user) {
  if (shownUserIds.has(user.id)) return;
  shownUserIds.add(user.id);
  const item = document.createElement('li');
  item.textContent = user.name;
  item.dataset.id = user.id;
  usersList.append(item);
}

function showEvent(text) {
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  eventsList.prepend(item);
  while (eventsList.children.length > 20) eventsList.lastElementChild.remove();
}

async function loadUsers() {
  const response = await fetch('/api/users');
  for (const user of await response.json()) showUser(user);
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  formStatus.className = 'status';
  formStatus.textContent = 'Saving…';
  const response = await fetch('/api/users', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: nameInput.value }),
  });
  const result = await response.json();
  if (response.ok) {
    showUser(result);
    formStatus.className = 'status ok';
    formStatus.textContent = `Added ${result.name} (id ${result.id})`;
    nameInput.value = '';
  } else {
    formStatus.className = 'status error';
    formStatus.textContent = result.error?.message ?? String(result.error);
  }
});

const events = new EventSource('/events');
events.addEventListener('open', () => {
  eventsState.textContent = 'live';
  eventsState.className = 'badge live';
});
events.addEventListener('error', () => {
  eventsState.textContent = 'reconnecting…';
  eventsState.className = 'badge';
});
events.addEventListener('hello', (e) => showEvent(`hello: ${JSON.parse(e.data).users} users`));
events.addEventListener('tick', (e) => showEvent(`tick: ${JSON.parse(e.data).time}`));
events.addEventListener('user', (e) => {
  const user = JSON.parse(e.data);
  showUser(user);
  showEvent(`user: ${user.name} joined`);
});

async function time(path) {
  const started = performance.now();
  const response = await fetch(path);
  const body = await response.json();
  const item = document.createElement('li');
  item.textContent = `${path} answered in ${Math.round(performance.now() - started)} ms${body.result !== undefined ? ` (result ${body.result})` : ''}`;
  timings.prepend(item);
}
document.querySelector('#slow').addEventListener('click', () => time('/slow?n=40'));
document.querySelector('#fast').addEventListener('click', () => time('/fast'));

loadUsers();
