// Bar charts drawn with uPlot (https://github.com/leeoniya/uPlot).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

// Bars: one group per label, one or two series ({label, values, color})
// side by side; a series with `line: true` is drawn as a line over them (a
// baseline). `marks`: [{index, label}], a dashed vertical line at a label.
export function Bars({ labels, series, yLabel, height = 260, title, marks = [] }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el || labels.length === 0) return undefined;
    const xs = labels.map((_, i) => i);
    const n = series.filter((s) => !s.line).length;
    let bar = 0;
    const opts = {
      title,
      width: Math.max(280, el.clientWidth),
      height,
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
      axes: [
        { values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? labels[t] ?? '' : '')), rotate: 0, gap: 4, size: 40 },
        { label: yLabel, size: 60 },
      ],
      series: [
        {},
        ...series.map((s) => {
          if (s.line) return { label: s.label, stroke: s.color, width: 2, dash: [6, 4], points: { show: false } };
          const i = bar++;
          return {
            label: s.label,
            fill: s.color,
            stroke: s.color,
            width: 0,
            paths: uPlot.paths.bars({ size: [n === 1 ? 0.7 : 0.4, 48], align: n === 1 ? 0 : i === 0 ? -1 : 1 }),
            points: { show: false },
          };
        }),
      ],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            for (const m of marks) {
              const x = u.valToPos(m.index, 'x', true);
              ctx.save();
              ctx.strokeStyle = '#b3261e';
              ctx.fillStyle = '#b3261e';
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
              ctx.fillText(m.label, x + 4 * devicePixelRatio, u.bbox.top + 14 * devicePixelRatio);
              ctx.restore();
            }
          },
        ],
      },
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    };
    const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)], el);
    const resize = () => plot.setSize({ width: Math.max(280, el.clientWidth), height });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [labels, series, marks]);
  return <div class="chart" ref={box} role="img" aria-label={title} />;
}
