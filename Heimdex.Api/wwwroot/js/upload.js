import { api, pageHeaders } from './api.js';
import { clear, drop, formatBytes, formatDate, formatTime, h } from './dom.js';

// Resumable uploads through the API's tus endpoint. tus-js-client remembers each unfinished upload in this browser
// (by file name, size, type and date), so choosing the same file again, even after a reload, resumes where it stopped.
const endpoint = '/api/uploads';
const retryDelays = [0, 1000, 3000, 5000, 10000];
// Bounded requests: a proxy's body limit or a dropped connection costs at most one chunk.
const chunkSize = 8 * 1024 * 1024;

export async function renderUpload(view, { signal }) {
  const list = h('ul', { className: 'uploads', 'aria-label': 'Files to upload' });
  const input = h('input', { id: 'files', type: 'file', multiple: true, accept: 'video/*,.mkv,.mov,.avi,.webm,.mp4' });
  const zone = h('label', { className: 'drop', for: 'files' },
    h('strong', {}, 'Drop videos here'), h('span', {}, ' or choose files'), input);
  const startAll = h('button', { type: 'button', onclick: () => rows.forEach(row => row.start()) }, 'Upload all');
  const unfinished = h('section', { 'aria-labelledby': 'unfinished-heading' });
  const rows = [];
  const add = files => files.forEach(file => { const row = new UploadRow(file, rows); rows.push(row); list.append(row.element); });
  input.addEventListener('change', () => { add([...input.files]); input.value = ''; });
  drop(zone, add);
  // Leaving the page pauses uploads; they resume when the same file is chosen again.
  signal.addEventListener('abort', () => rows.forEach(row => row.pause()));
  clear(view, h('h1', {}, 'Upload videos'), zone, list, h('div', { className: 'actions' }, startAll), unfinished);
  await listUnfinished(unfinished);
}

async function listUnfinished(section) {
  const previous = await window.tus.defaultOptions.urlStorage.findAllUploads();
  if (!previous.length) return;
  clear(section, h('h2', { id: 'unfinished-heading' }, 'Unfinished uploads'),
    h('p', {}, 'Choose the same file again to resume it where it stopped.'),
    h('ul', {}, previous.map(upload => {
      const item = h('li', {}, `${upload.metadata?.filename ?? 'A file'} (${formatBytes(upload.size)}), started ${formatDate(upload.creationTime)} `,
        h('button', {
          type: 'button',
          className: 'link',
          onclick: async () => {
            await window.tus.Upload.terminate(upload.uploadUrl, { headers: pageHeaders }).catch(() => {});
            await window.tus.defaultOptions.urlStorage.removeUpload(upload.urlStorageKey);
            item.remove();
          },
        }, 'Discard'));
      return item;
    })));
}

class UploadRow {
  constructor(file, rows) {
    this.file = file;
    this.samples = [];
    const id = `upload-${rows.length}`;
    this.title = h('input', { id: `${id}-title`, required: true, maxlength: '500', value: file.name.replace(/\.[^.]+$/, '') });
    this.description = h('textarea', { id: `${id}-description`, rows: 2, maxlength: '16000' });
    this.bar = h('progress', { max: 100, value: 0, 'aria-label': `Upload of ${file.name}` });
    this.status = h('p', { className: 'status', role: 'status' }, `${formatBytes(file.size)} · ready`);
    this.button = h('button', { type: 'button', onclick: () => this.toggle() }, 'Upload');
    this.remove = h('button', { type: 'button', className: 'danger', onclick: () => this.cancel() }, 'Remove');
    this.element = h('li', { className: 'card upload' },
      h('h2', {}, file.name),
      h('label', { for: this.title.id }, 'Title'), this.title,
      h('label', { for: this.description.id }, 'Description'), this.description,
      this.bar, this.status, h('div', { className: 'actions' }, this.button, this.remove));
    this.upload = new window.tus.Upload(file, {
      endpoint,
      headers: pageHeaders,
      retryDelays,
      chunkSize,
      removeFingerprintOnSuccess: true,
      metadata: { filename: file.name, filetype: file.type },
      onProgress: (sent, total) => this.progress(sent, total),
      onSuccess: () => this.succeeded(),
      onError: error => this.failed(error),
    });
    this.upload.findPreviousUploads().then(previous => {
      this.previous = previous[0];
      if (this.previous) this.status.textContent = `${formatBytes(file.size)} · resumes the upload started ${formatDate(this.previous.creationTime)}`;
    });
  }

  toggle() {
    if (this.running) this.pause();
    else this.start();
  }

  start() {
    if (this.running || this.done) return;
    if (!this.title.reportValidity()) return;
    this.upload.options.metadata = {
      filename: this.file.name, filetype: this.file.type, title: this.title.value.trim(), description: this.description.value.trim(),
    };
    if (this.previous) this.upload.resumeFromPreviousUpload(this.previous);
    this.running = true;
    this.title.disabled = this.description.disabled = true;
    this.button.textContent = 'Pause';
    this.status.textContent = 'Starting…';
    this.upload.start();
  }

  pause() {
    if (!this.running) return;
    this.running = false;
    this.upload.abort();
    this.button.textContent = 'Resume';
    this.status.textContent = `Paused at ${this.bar.value}%`;
    this.samples = [];
  }

  async cancel() {
    this.running = false;
    if (!this.done) await this.upload.abort(true).catch(() => {});
    this.element.remove();
  }

  progress(sent, total) {
    const now = performance.now();
    this.samples.push([now, sent]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
    const [firstTime, firstSent] = this.samples[0];
    const speed = now > firstTime ? (sent - firstSent) / ((now - firstTime) / 1000) : 0;
    const percent = total ? Math.floor((sent / total) * 100) : 0;
    this.bar.value = percent;
    const left = speed > 0 ? ` · ${formatTime((total - sent) / speed)} left` : '';
    this.status.textContent = `${percent}% · ${formatBytes(sent)} of ${formatBytes(total)} · ${formatBytes(speed)}/s${left}`;
  }

  async succeeded() {
    this.running = false;
    this.done = true;
    this.bar.value = 100;
    this.button.remove();
    this.remove.textContent = 'Hide';
    const state = await api(new URL(this.upload.url, location.href).pathname);
    clear(this.status, 'Uploaded · being indexed · ', h('a', { href: `#/videos/${state.videoId}` }, 'open the video'));
  }

  failed(error) {
    this.running = false;
    this.button.textContent = 'Try again';
    let reason = error.message;
    try {
      const problem = JSON.parse(error.originalResponse?.getBody() ?? '');
      reason = [problem.title, problem.detail].filter(Boolean).join(': ') || reason;
    } catch { /* the server sent no problem document */ }
    this.status.textContent = `Upload failed: ${reason}`;
    this.status.setAttribute('role', 'alert');
    this.status.classList.add('error');
  }
}
