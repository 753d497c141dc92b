// Bar charts drawn with uPlot (https://github.com/leeoniya/uPlot).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

// Bars: one group per label, one or two series ({label, values, color}) side by side.
export function Bars({ labels, series, yLabel, height = 260, title }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el || labels.length === 0) return undefined;
    const xs = labels.map((_, i) => i);
    const n = series.length;
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
        ...series.map((s, i) => ({
          label: s.label,
          fill: s.color,
          stroke: s.color,
          width: 0,
          paths: uPlot.paths.bars({ size: [n === 1 ? 0.7 : 0.4, 48], align: n === 1 ? 0 : i === 0 ? -1 : 1 }),
          points: { show: false },
        })),
      ],
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
  }, [labels, series]);
  return <div class="chart" ref={box} role="img" aria-label={title} />;
}
