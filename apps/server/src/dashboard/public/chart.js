import { s, formatBytes, formatNumber } from './dom.js';

const WIDTH = 560;
const HEIGHT = 300;
const MARGIN = { top: 16, right: 24, bottom: 44, left: 56 };

/** Round tick values across [min, max]. */
function ticks(min, max, count = 5) {
  if (max <= min) return [min];
  const step = 10 ** Math.floor(Math.log10((max - min) / count));
  const nice = [1, 2, 5, 10].map((factor) => factor * step).find((candidate) => (max - min) / candidate <= count);
  const first = Math.ceil(min / nice) * nice;
  const values = [];
  for (let value = first; value <= max + nice * 1e-9; value += nice) values.push(Number(value.toPrecision(12)));
  return values;
}

function padded(min, max, share = 0.08) {
  const span = max - min || Math.abs(max) || 1;
  return [min - span * share, max + span * share];
}

/**
 * Size (wire bytes, x) against test accuracy (y) for a version's candidates; latency is the marker's
 * radius (median ms). Eligible candidates are filled, ineligible ones hollow; the winner has a ring and
 * a label. Each marker has a tooltip with its numbers.
 */
export function candidateChart(candidates) {
  const svg = s('svg', {
    class: 'chart',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label': 'candidates: size against accuracy, marker size is latency',
  });
  if (candidates.length === 0) return svg;
  const sizes = candidates.map((candidate) => candidate.wireBytes / 1024);
  const accuracies = candidates.map((candidate) => candidate.accuracy);
  const latencies = candidates.map((candidate) => candidate.latencyMedianMs);
  const [xMin, xMax] = padded(Math.min(0, ...sizes), Math.max(...sizes));
  const [yMin, yMax] = padded(Math.min(...accuracies), Math.max(...accuracies));
  const [lMin, lMax] = [Math.min(...latencies), Math.max(...latencies)];
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (value) => MARGIN.left + ((value - xMin) / (xMax - xMin)) * plotWidth;
  const y = (value) => MARGIN.top + plotHeight - ((value - yMin) / (yMax - yMin)) * plotHeight;
  const radius = (value) => (lMax > lMin ? 4 + ((value - lMin) / (lMax - lMin)) * 10 : 7);

  const axes = s('g', { class: 'axes' });
  for (const tick of ticks(Math.max(0, xMin), xMax)) {
    axes.append(
      s('line', { x1: x(tick), x2: x(tick), y1: MARGIN.top, y2: MARGIN.top + plotHeight, class: 'grid' }),
      s('text', { x: x(tick), y: HEIGHT - MARGIN.bottom + 16, 'text-anchor': 'middle' }, String(tick)),
    );
  }
  for (const tick of ticks(yMin, yMax)) {
    axes.append(
      s('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick), class: 'grid' }),
      s('text', { x: MARGIN.left - 6, y: y(tick) + 4, 'text-anchor': 'end' }, String(tick)),
    );
  }
  axes.append(
    s(
      'text',
      { x: MARGIN.left + plotWidth / 2, y: HEIGHT - 6, 'text-anchor': 'middle', class: 'title' },
      'download size (KiB)',
    ),
    s(
      'text',
      {
        x: 14,
        y: MARGIN.top + plotHeight / 2,
        'text-anchor': 'middle',
        class: 'title',
        transform: `rotate(-90 14 ${MARGIN.top + plotHeight / 2})`,
      },
      'test accuracy (%)',
    ),
  );
  svg.append(axes);

  const markers = s('g', { class: 'markers' });
  // Largest first, so small markers stay clickable on top of big ones.
  const ordered = [...candidates].sort((a, b) => b.latencyMedianMs - a.latencyMedianMs);
  for (const candidate of ordered) {
    const cx = x(candidate.wireBytes / 1024);
    const cy = y(candidate.accuracy);
    const r = radius(candidate.latencyMedianMs);
    const tooltip =
      `${candidate.variant}: ${formatBytes(candidate.wireBytes)}, ${formatNumber(candidate.accuracy, 2)} %, ` +
      `${formatNumber(candidate.latencyMedianMs, 2)} ms median, L ${formatNumber(candidate.objective, 3)}` +
      (candidate.eligible ? '' : ` (ineligible: ${candidate.ineligibleReason ?? 'constraint'})`) +
      (candidate.winner ? ' — winner' : '');
    const group = s('g', {
      class: `marker${candidate.winner ? ' winner' : ''}${candidate.eligible ? '' : ' ineligible'}`,
      'data-variant': candidate.variant,
    });
    group.append(s('circle', { cx, cy, r }, s('title', {}, tooltip)));
    if (candidate.winner) {
      group.append(
        s('circle', { cx, cy, r: r + 5, class: 'ring' }),
        s('text', { x: cx + r + 8, y: cy - r - 2, class: 'winner-label' }, `★ ${candidate.variant}`),
      );
    } else {
      group.append(s('text', { x: cx + r + 3, y: cy + 4, class: 'label' }, candidate.variant));
    }
    markers.append(group);
  }
  svg.append(markers);
  return svg;
}
