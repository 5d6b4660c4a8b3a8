import http from 'node:http';

/**
 * The simulator's only way into Vigie: HTTP requests as a browser, a business application or a
 * security analyst would send them, each carrying the address of the person behind it in
 * X-Forwarded-For (the simulator stands for the reverse proxy Vigie trusts).
 */
export interface Caller {
  readonly ip: string;
  readonly userAgent?: string;
  readonly token?: string;
  cookie?: string;
}

export interface Reply<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly setCookie: string | undefined;
}

export const SESSION_COOKIE_NAME = '__Host-vigie_session';

const COOKIE_PREFIX = `${SESSION_COOKIE_NAME}=`;

export class VigieClient {
  requests = 0;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  constructor(
    readonly baseUrl: string,
    readonly origin: string,
  ) {}

  async call<T = Record<string, unknown>>(
    caller: Caller,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = {
      'x-forwarded-for': caller.ip,
      'user-agent': caller.userAgent ?? 'vigie-sim/1',
    };
    if (caller.token) headers.authorization = `Bearer ${caller.token}`;
    if (caller.cookie) headers.cookie = `${SESSION_COOKIE_NAME}=${caller.cookie}`;
    if (method !== 'GET') headers.origin = this.origin;
    if (body !== undefined) headers['content-type'] = 'application/json';
    this.requests += 1;
    const payload = body !== undefined ? JSON.stringify(body) : undefined;
    const res = await this.#send(method, url, headers, payload);
    let parsed: unknown = res.text;
    try {
      parsed = res.text === '' ? undefined : JSON.parse(res.text);
    } catch {
      // A non-JSON body (a page) is kept as text.
    }
    let setCookie: string | undefined;
    for (const line of res.cookies) {
      if (line.startsWith(COOKIE_PREFIX)) {
        const end = line.indexOf(';');
        setCookie = line.slice(COOKIE_PREFIX.length, end < 0 ? undefined : end);
      }
    }
    return { status: res.status, body: parsed as T, setCookie };
  }

  /**
   * One request over node:http with kept-alive connections: the simulator shares its thread with the
   * Vigie it drives, and fetch's web streams cost it several times what a plain request does.
   */
  #send(
    method: string,
    url: string,
    headers: Record<string, string>,
    payload: string | undefined,
    retried = false,
  ): Promise<{ status: number; text: string; cookies: string[] }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${this.baseUrl}${url}`,
        {
          method,
          agent: this.#agent,
          headers:
            payload !== undefined ? { ...headers, 'content-length': Buffer.byteLength(payload) } : headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              cookies: res.headers['set-cookie'] ?? [],
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed just as it was reused: nothing reached Vigie,
        // the request goes again once on a fresh connection (what Node's documentation advises).
        if (!retried && req.reusedSocket && error.code === 'ECONNRESET')
          this.#send(method, url, headers, payload, true).then(resolve, reject);
        else reject(error);
      });
      req.end(payload);
    });
  }

  /** Closes the kept-alive connections (the run is over). */
  close(): void {
    this.#agent.destroy();
  }

  /** Like call, but a non-2xx answer is an error (setup steps that must not fail). */
  async expect<T = Record<string, unknown>>(
    caller: Caller,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
  ): Promise<T> {
    const res = await this.call<T>(caller, method, url, body);
    if (res.status < 200 || res.status > 299) {
      throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    return res.body;
  }
}

/** Runs `work` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
  onDone?: (done: number) => void,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await work(items[i]!, i);
      done += 1;
      onDone?.(done);
    }
  });
  await Promise.all(runners);
  return results;
}
