// Reading an endpoint's top-k first-token logprobs. Pure and free of the SDK, so judges and
// scorers that run in worker threads can use it without loading the client.

export interface TopLogprob {
  token: string;
  logprob: number;
}

/** Probability mass of the alternatives that `wanted` accepts (tokens outside the top k count as 0). */
export function tokenMass(top: readonly TopLogprob[], wanted: (token: string) => boolean): number {
  return top.filter((t) => wanted(t.token)).reduce((acc, t) => acc + Math.exp(t.logprob), 0);
}
