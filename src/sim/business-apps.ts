import { mapLimit, type VigieClient } from './client.js';
import type { AppHandle } from './provision.js';

/**
 * What the business applications and the partner portals do for each person who opens a file: ask
 * Vigie's PDP first (AuthZEN `/access/v1/evaluations`, boxcarred per application), and show the file
 * only on a permit. The context carries what the application knows of the person's sign-in and
 * network, as a real integration would send it.
 */
export interface Evaluation {
  readonly subject: { readonly type: 'account' | 'application'; readonly id: string };
  readonly action: {
    readonly name: 'read' | 'export' | 'update';
    readonly properties?: Record<string, unknown>;
  };
  readonly resource: { readonly type: 'record'; readonly id: string };
  readonly context: Record<string, unknown>;
}

export interface Verdict {
  readonly decision: boolean;
  readonly reasons: readonly string[];
}

const BOXCAR = 500;
/**
 * Boxcars one application has in flight at once: a business application serves thousands of
 * advisors at the same time, so its calls to the PDP overlap (Vigie's main thread decides one while
 * its writer thread journals the previous one).
 */
const IN_FLIGHT = 4;

export async function evaluateAll(
  client: VigieClient,
  app: AppHandle,
  items: readonly Evaluation[],
): Promise<Verdict[]> {
  const chunks: Evaluation[][] = [];
  for (let i = 0; i < items.length; i += BOXCAR) chunks.push(items.slice(i, i + BOXCAR));
  const answers = await mapLimit(chunks, IN_FLIGHT, (chunk) => evaluateChunk(client, app, chunk));
  return answers.flat();
}

async function evaluateChunk(
  client: VigieClient,
  app: AppHandle,
  chunk: readonly Evaluation[],
): Promise<Verdict[]> {
  const res = await client.call<{
    decision?: boolean;
    context?: { reasons?: string[]; error?: unknown };
    evaluations?: { decision: boolean; context?: { reasons?: string[]; error?: unknown } }[];
  }>({ ip: app.ip, token: app.token }, 'POST', '/access/v1/evaluations', { evaluations: chunk });
  if (res.status !== 200) {
    const code = (res.body as { error?: { code?: string } } | undefined)?.error?.code ?? `HTTP_${res.status}`;
    return chunk.map(() => ({ decision: false, reasons: [code] }));
  }
  const list = res.body.evaluations ?? [
    { decision: res.body.decision ?? false, context: res.body.context ?? {} },
  ];
  return list.map((e) => ({
    decision: e.decision,
    reasons: e.decision ? [] : (e.context?.reasons ?? (e.context?.error ? ['invalid_request'] : ['denied'])),
  }));
}
