import { api } from './api.js';
import { h } from './dom.js';

export const finished = video => video.state === 'indexed' || video.state === 'failed';

export function failedStage(video) {
  return video.stages.find(stage => stage.state === 'failed');
}

// What the pipeline is doing: every running stage (the audio and picture branches run at once), else the next one due.
function now(video) {
  const running = video.stages.filter(stage => stage.state === 'running');
  if (running.length > 0) return running.map(stage => `${stage.stage} ${stage.progress}%`).join(', ');
  const next = video.stages.find(stage => stage.state === 'queued' || stage.state === 'pending');
  return next && `${next.stage} waiting`;
}

// One segment per stage, coloured by state, and a sentence saying where the video stands.
export function stageLine(video) {
  const segments = h('ol', { className: 'stages', 'aria-hidden': 'true' },
    video.stages.map(stage => h('li', {
      className: `stage ${stage.state}`,
      title: `${stage.stage}: ${stage.state}${stage.state === 'running' ? ` ${stage.progress}%` : ''}`,
      style: stage.state === 'running' ? { '--progress': `${stage.progress}%` } : undefined,
    })));
  const failed = failedStage(video);
  const doing = now(video);
  const done = video.stages.filter(stage => stage.state === 'succeeded' || stage.state === 'skipped').length;
  const text = failed
    ? `Failed at ${failed.stage}: ${failed.error ?? video.error ?? 'no reason recorded'}`
    : video.state === 'indexed'
      ? 'Indexed'
      : doing
        ? `${doing} · ${done} of ${video.stages.length} stages done`
        : video.state;
  return h('div', { className: 'progress-line' }, segments,
    h('p', { className: failed ? 'status error' : 'status', role: failed ? 'alert' : undefined }, text));
}

export function retryButton(video, onDone) {
  const failed = failedStage(video);
  if (!failed) return null;
  return h('button', {
    type: 'button',
    onclick: async event => {
      event.currentTarget.disabled = true;
      await api(`/api/videos/${video.id}/reprocess?fromStage=${encodeURIComponent(failed.stage)}`, { method: 'POST' });
      onDone();
    },
  }, `Retry from ${failed.stage}`);
}
