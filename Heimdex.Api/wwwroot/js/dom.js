// Builds elements from data: text always goes in as text nodes, so nothing a user or a video said can become markup.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'className') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    // Through the CSSOM: the page's content security policy refuses inline style attributes.
    else if (name === 'style') for (const [property, setting] of Object.entries(value)) element.style.setProperty(property, setting);
    else if (name in element && typeof value !== 'string') element[name] = value;
    else element.setAttribute(name, value === true ? '' : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

// A search snippet is escaped text with <mark>…</mark> around the matched words: only those marks become elements.
const entities = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescape = text => text.replace(/&(amp|lt|gt|quot|#39);/g, entity => entities[entity]);

export function markedText(snippet) {
  return snippet.split(/(<mark>.*?<\/mark>)/g).filter(Boolean)
    .map(part => part.startsWith('<mark>') ? h('mark', {}, unescape(part.slice(6, -7))) : document.createTextNode(unescape(part)));
}

export function formatTime(totalSeconds) {
  if (totalSeconds === null || totalSeconds === undefined || Number.isNaN(totalSeconds)) return '–';
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = String(seconds % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

export function formatBytes(bytes) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++; }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatDate(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// A picture that may not exist yet: a failed load shows the placeholder instead of a broken image.
export function thumbnail(url, alt) {
  if (!url) return h('div', { className: 'thumb placeholder', role: 'img', 'aria-label': alt });
  const image = h('img', { className: 'thumb', src: url, alt, loading: 'lazy', decoding: 'async' });
  image.addEventListener('error', () => image.replaceWith(thumbnail(null, alt)), { once: true });
  return image;
}

export function drop(zone, onFiles) {
  zone.addEventListener('dragover', event => { event.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', event => {
    event.preventDefault();
    zone.classList.remove('over');
    if (event.dataTransfer?.files?.length) onFiles([...event.dataTransfer.files]);
  });
}
