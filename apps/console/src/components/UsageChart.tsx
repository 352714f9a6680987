// Hourly usage (reads, writes, errors) as a stacked bar chart (Recharts), with the totals in text beside it.
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { UsageBucket } from '../api/client';

export function UsageChart({ title, buckets, total }: { title: string; buckets: UsageBucket[]; total: { reads: number; writes: number; errors: number } }) {
  const data = buckets.map((b) => ({ ...b, label: new Date(b.hour).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) }));
  return (
    <figure aria-label={title}>
      <figcaption>
        <strong>{title}</strong>{' '}
        <span data-testid="usage-total">
          {total.reads} reads · {total.writes} writes · {total.errors} errors
        </span>
      </figcaption>
      <div className="chart" role="img" aria-label={`${title}: ${total.reads} reads, ${total.writes} writes, ${total.errors} errors`}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="label" />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <Legend />
            <Bar dataKey="reads" stackId="a" fill="#1d6fb8" />
            <Bar dataKey="writes" stackId="a" fill="#2e8540" />
            <Bar dataKey="errors" stackId="a" fill="#c62828" />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
