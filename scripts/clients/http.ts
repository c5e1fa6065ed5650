/**
 * The one HTTP helper the backend clients share: a base URL, fixed headers (auth, tenant), a per-request timeout
 * bound to the caller's abort signal, and answers that never throw for an HTTP status (the caller decides what a
 * 404 means). A connection that cannot be made comes back as `error` ("connection refused"), not as an exception,
 * so a check can say what it expected and what it got.
 */

export interface HttpAnswer {
  /** HTTP status, or 0 when no answer came. */
  status: number;
  /** The body parsed as JSON when it is JSON, else undefined. */
  json?: any;
  text: string;
  /** Why there is no answer: "connection refused", "no answer within 5s". */
  error?: string;
}

export interface HttpOptions {
  method?: 'GET' | 'POST';
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  /** A JSON body (sent as application/json), or raw bytes with their content type in headers. */
  body?: unknown;
  timeoutMs?: number;
}

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface HttpClientInit {
  baseUrl: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Injected in tests; the global fetch otherwise. */
  fetch?: FetchLike;
}

export class HttpClient {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly signal?: AbortSignal;
  private readonly timeoutMs: number;
  private readonly fetch: FetchLike;

  constructor(init: HttpClientInit) {
    this.baseUrl = init.baseUrl.replace(/\/+$/, '');
    this.headers = init.headers ?? {};
    this.signal = init.signal;
    this.timeoutMs = init.timeoutMs ?? 5_000;
    this.fetch = init.fetch ?? ((url, i) => fetch(url, i));
  }

  /** The absolute URL of a path with its query (also used to print what was asked). */
  url(path: string, query: HttpOptions['query'] = {}): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  async request(path: string, opts: HttpOptions = {}): Promise<HttpAnswer> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const signals = [AbortSignal.timeout(timeoutMs), ...(this.signal ? [this.signal] : [])];
    const raw = opts.body instanceof Uint8Array;
    const headers: Record<string, string> = { accept: 'application/json', ...this.headers, ...opts.headers };
    if (opts.body !== undefined && !raw) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetch(this.url(path, opts.query), {
        method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
        headers,
        body: (opts.body === undefined ? undefined : raw ? (opts.body as Uint8Array) : JSON.stringify(opts.body)) as BodyInit | undefined,
        signal: AbortSignal.any(signals),
        redirect: 'manual',
      });
    } catch (e) {
      if (this.signal?.aborted) throw this.signal.reason ?? e;
      return { status: 0, text: '', error: describeFetchError(e, timeoutMs) };
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    if (text && /json/i.test(res.headers.get('content-type') ?? '')) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    } else if (text && /^\s*[[{]/.test(text)) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { status: res.status, json, text };
  }
}

export function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: NodeJS.ErrnoException };
  if (err.name === 'TimeoutError') return `no answer within ${Math.round(timeoutMs / 100) / 10}s`;
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  return code ?? err.cause?.message ?? err.message;
}

/** One line for a check's "got": the status and the start of the body, or the connection error. */
export function describeAnswer(a: HttpAnswer): string {
  if (a.status === 0) return a.error ?? 'no answer';
  // An HTML error page says less than its text.
  const body = a.text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return `HTTP ${a.status}${body ? `: ${body.length > 160 ? body.slice(0, 157) + '...' : body}` : ''}`;
}

export const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
