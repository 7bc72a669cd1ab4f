import { procedures, type AppRouter, type Contract } from '@lead/contracts';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import type { TestApp } from './app.js';

export type Surface = 'rest' | 'trpc';
export const SURFACES: Surface[] = ['rest', 'trpc'];

/** Every procedure of the service as `[tRPC path, contract]`, from the contracts' one walk. */
export const allProcedures = (): Array<[string, Contract]> => procedures.map((p) => [p.path, p.contract]);
const byPath = new Map(allProcedures());

export interface CallResult {
  status: number;
  /** The stable error code, on either surface. */
  code?: string;
  /** The output on success (REST JSON, or tRPC's deserialised value). */
  data?: any;
}

/**
 * Calls one procedure over the chosen surface, as a real client would: REST at the contract's
 * method and path (path parameters filled in from the input, the rest as query or JSON body), or
 * the tRPC client over /trpc. `authorization` is the raw header value, if any.
 */
export async function callProcedure(
  t: TestApp,
  surface: Surface,
  path: string,
  input: Record<string, unknown> | undefined,
  authorization?: string,
): Promise<CallResult> {
  const contract = byPath.get(path);
  if (!contract) throw new Error(`no procedure ${path}`);
  const headers: Record<string, string> = authorization ? { authorization } : {};
  if (surface === 'rest') {
    const rest = { ...input };
    const { method, path: template } = contract.meta.openapi;
    let url: string = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = String(rest[name]);
      delete rest[name];
      return encodeURIComponent(value);
    });
    const defined = Object.entries(rest).filter(([, v]) => v !== undefined);
    if (method === 'GET' && defined.length)
      url += `?${new URLSearchParams(defined.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
    const res = await t.rest(method, url, { headers, ...(method === 'GET' ? {} : { body: rest }) });
    return res.status < 400 ? { status: res.status, data: res.body } : { status: res.status, code: res.body?.code };
  }

  let status = 0;
  const client = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${t.url}/trpc`,
        transformer: superjson,
        headers: () => headers,
        fetch: async (url, init) => {
          const res = await fetch(url, init);
          status = res.status;
          return res;
        },
      }),
    ],
  });
  const procedure = path.split('.').reduce<any>((node, key) => node[key], client);
  try {
    const data = await (contract.type === 'query' ? procedure.query(input) : procedure.mutate(input));
    return { status, data };
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return { status, code: (error.data as { code?: string } | undefined)?.code };
  }
}
