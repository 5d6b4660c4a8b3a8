/** Every call to Vigie's API goes through here: same origin, the session cookie, JSON. */

export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** An error the API answered: its status, stable code and the request id to quote to support. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly requestId: string | null = null,
  ) {
    super(message);
  }
}

async function answer<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  if (res.ok) return (type.includes('json') ? await res.json() : await res.text()) as T;
  let body: { error?: ApiErrorBody } = {};
  if (type.includes('json')) body = (await res.json().catch(() => ({}))) as { error?: ApiErrorBody };
  throw new ApiError(
    res.status,
    body.error?.code ?? `HTTP_${res.status}`,
    body.error?.message ?? res.statusText,
    body.error?.details ?? {},
    res.headers.get('x-request-id'),
  );
}

export async function get<T>(path: string): Promise<T> {
  return answer<T>(
    await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } }),
  );
}

export async function send<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return answer<T>(
    await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body ?? {}),
    }),
  );
}

/** Where the browser is inside the console, to come back to after signing in or a step-up. */
export function here(): string {
  return location.pathname + location.search;
}

/** Sends the person to Vigie's own sign-in page and back here. */
export function goSignIn(): void {
  location.assign(`/sign-in?return=${encodeURIComponent(here())}`);
}

/**
 * A step-up refusal names the page that confirms it (/step-up); the person goes there and comes
 * back to the same console page, where the act can be done again.
 */
export function goStepUp(error: ApiError): void {
  const page =
    typeof error.details.page === 'string' && error.details.page.startsWith('/')
      ? error.details.page
      : '/step-up';
  location.assign(`${page}?return=${encodeURIComponent(here())}`);
}

export const isStepUp = (e: unknown): e is ApiError => e instanceof ApiError && e.code === 'STEP_UP_REQUIRED';
export const isForbidden = (e: unknown): boolean =>
  e instanceof ApiError && (e.status === 403 || e.status === 404) && e.code !== 'STEP_UP_REQUIRED';

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface Account {
  readonly id: string;
  readonly organisationId: string;
  readonly kind: string;
  readonly email: string;
  readonly displayName: string | null;
  readonly status: string;
  readonly statusReason: string | null;
  readonly createdBy: string | null;
  readonly approvedBy: string | null;
  readonly createdAt: string;
}

export interface Alert {
  readonly id: string;
  readonly ruleId: string;
  readonly title: string;
  readonly severity: string;
  readonly status: string;
  readonly entity: { readonly type: string; readonly id: string };
  readonly organisationId: string | null;
  readonly tags: string[];
  readonly evidence: { readonly eventId: string; readonly proof: string }[];
  readonly summary: Record<string, unknown>;
  readonly occurrences: number;
  readonly firstEventAt: string;
  readonly lastEventAt: string;
  readonly comment: string | null;
  readonly createdAt: string;
}

export interface AlertResponse {
  readonly id: string;
  readonly alertId: string;
  readonly action: string;
  readonly target: { readonly type: string; readonly id: string };
  readonly status: string;
  readonly errorCode: string | null;
  readonly executedAt: string;
}

/** The signed checkpoint (C2SP tlog-checkpoint): origin, tree size, root hash, then signatures. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: string;
  readonly note: string;
}

export function parseCheckpoint(note: string): Checkpoint {
  const [origin = '', size = '0', rootHash = ''] = note.split('\n');
  return { origin, size: Number(size), rootHash, note };
}
