// Plain HTTP for the APIs the openai SDK does not cover (Together's and Fireworks' fine-tuning,
// vLLM's LoRA loading): JSON or multipart requests whose failures carry status and headers
// the way the SDK's errors do, so the same retry loop (retry-after, backoff) applies.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly body: string,
    what: string,
  ) {
    super(`${what} failed with ${status}: ${errorMessage(body)}`);
    this.name = 'HttpError';
  }
}

/** The message of an error body: OpenAI's {error: {message}}, vLLM's {message}, Fireworks' {error: "..."} or text. */
export function errorMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    if (typeof j.error === 'string') return j.error;
    return j.error?.message ?? j.message ?? body;
  } catch {
    return body.slice(0, 500);
  }
}

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'DELETE';
  /** a JSON body */
  json?: unknown;
  /** a multipart body */
  form?: FormData;
  timeoutMs?: number;
}

/** One request; the body parsed as JSON when it is JSON, else returned as text. Throws HttpError on a non-2xx. */
export async function httpCall<T = unknown>(url: string, apiKey: string, r: HttpRequest = {}): Promise<T> {
  const res = await fetch(url, {
    method: r.method ?? (r.json !== undefined || r.form ? 'POST' : 'GET'),
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(r.json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: r.json !== undefined ? JSON.stringify(r.json) : r.form,
    signal: AbortSignal.timeout(r.timeoutMs ?? 120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new HttpError(res.status, res.headers, text, `${r.method ?? 'request'} ${new URL(url).pathname}`);
  return ((res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text) as T;
}

/** base + path without doubled slashes. */
export const joinUrl = (base: string, path: string): string =>
  `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
