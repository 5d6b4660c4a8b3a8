import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, CanvasRenderer]);

export interface TimeSeries {
  readonly name: string;
  readonly kind: 'line' | 'bar' | 'step';
  readonly colour: string;
  /** [time in ms, value] pairs, oldest first. */
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** A dashed line (a threshold). */
  readonly dashed?: boolean;
}

/**
 * Series over time on one chart (risk after each signal, the signal's weight, records per hour).
 * The canvas says nothing to a screen reader: the caller passes a text alternative and shows the
 * same figures in a table beside it.
 */
export function TimeChart({
  series,
  label,
  id,
}: {
  series: readonly TimeSeries[];
  label: string;
  id?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = echarts.init(ref.current, undefined, { renderer: 'canvas' });
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 16, top: 36, bottom: 32 },
      legend: { top: 0, data: series.map((s) => s.name) },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', minInterval: 1 },
      series: series.map((s) => ({
        name: s.name,
        type: s.kind === 'bar' ? 'bar' : 'line',
        ...(s.kind === 'step' ? { step: 'end' } : {}),
        symbolSize: 6,
        showSymbol: !s.dashed,
        barMaxWidth: 24,
        itemStyle: { color: s.colour },
        lineStyle: { color: s.colour, ...(s.dashed ? { type: 'dashed' } : {}) },
        data: s.points.map(([x, y]) => [x, y]),
      })),
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [series]);
  return <div ref={ref} id={id} className="vigie-chart" role="img" aria-label={label} />;
}
