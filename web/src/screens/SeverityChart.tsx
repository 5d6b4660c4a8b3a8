import { BarChart } from 'echarts/charts';
import { GridComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([BarChart, GridComponent, CanvasRenderer]);

/** DSFR's illustrative colours for the four severities, low to critical. */
const COLOURS: Record<string, string> = {
  low: '#6a6af4',
  medium: '#b7a73f',
  high: '#e4794a',
  critical: '#ce0500',
};

/**
 * A bar per severity. The canvas says nothing to a screen reader: the same figures are in the
 * label (and in the table beside it), so the chart is an image with a text alternative.
 */
export function SeverityChart({ counts, label }: { counts: Record<string, number>; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = echarts.init(ref.current, undefined, { renderer: 'canvas' });
    const levels = Object.keys(COLOURS);
    chart.setOption({
      animation: false,
      grid: { left: 40, right: 16, top: 16, bottom: 32 },
      xAxis: { type: 'category', data: levels },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        {
          type: 'bar',
          data: levels.map((l) => ({ value: counts[l] ?? 0, itemStyle: { color: COLOURS[l] } })),
        },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [counts]);
  const text = `${label} : ${Object.keys(COLOURS)
    .map((l) => `${l} ${counts[l] ?? 0}`)
    .join(', ')}`;
  return <div ref={ref} className="vigie-chart" role="img" aria-label={text} />;
}
